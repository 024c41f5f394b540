import type { EventStore } from '@aftersales/event-store';
import { PROJECTIONS, projectionNamed, readCheckpoints, rebuildProjections, type AnyProjection, type ReadStore, type RebuildProgress } from '@aftersales/read-models';
import { UsageError } from './token-command';

export const PROJECTIONS_USAGE = `Usage: npm run cli -- projections status
       npm run cli -- projections rebuild [name]

  status           each projection's version, stored position and lag behind the event log
  rebuild [name]   replays the projection (default: every one) from the event log into new
                   tables while the service keeps serving from the old ones, then swaps them
                   in; progress (events/s, ETA) on stderr

Projections: ${PROJECTIONS.map((p) => p.name).join(', ')}`;

export type ProjectionsRequest = { command: 'status' } | { command: 'rebuild'; names: string[] } | 'help';

/** `argv`: what follows `projections`. */
export function parseProjectionsArguments(argv: readonly string[]): ProjectionsRequest {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === 'help') return 'help';
  if (command === 'status') {
    if (rest.length > 0) throw new UsageError(`projections status takes no arguments (got ${rest.join(' ')})`);
    return { command: 'status' };
  }
  if (command === 'rebuild') {
    if (rest.length > 1) throw new UsageError('projections rebuild takes at most one projection name');
    const [name] = rest;
    if (name !== undefined && !projectionNamed(name)) throw new UsageError(`unknown projection ${name}; known: ${PROJECTIONS.map((p) => p.name).join(', ')}`);
    return { command: 'rebuild', names: name !== undefined ? [name] : PROJECTIONS.map((p) => p.name) };
  }
  throw new UsageError(`unknown projections command ${command}`);
}

/** One table: every projection known here or stored, its version, position and lag. */
export async function projectionsStatus(store: ReadStore, events: EventStore): Promise<string> {
  const [head, stored] = await Promise.all([events.headPosition(), readCheckpoints(store.db)]);
  const byName = new Map(stored.map((c) => [c.name, c]));
  const names = [...new Set([...PROJECTIONS.map((p) => p.name), ...byName.keys()])].sort();
  const rows = names.map((name) => {
    const checkpoint = byName.get(name);
    const code = projectionNamed(name)?.version;
    const version = checkpoint ? `${checkpoint.version}${code !== undefined && code !== checkpoint.version ? ` (code: ${code})` : ''}` : '-';
    return [name, version, checkpoint ? String(checkpoint.position) : 'not started', String(head), checkpoint ? String(Math.max(0, head - checkpoint.position)) : String(head), checkpoint?.updatedAt ?? '-'];
  });
  return table([['projection', 'version', 'position', 'head', 'lag', 'updated'], ...rows]);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

const BAR_WIDTH = 30;
const number = (n: number) => Math.round(n).toLocaleString('en-US');

/** `case_list [#######-------]  52%  120,000 events  61,000 ev/s  ETA 2s` */
export function progressLine(name: string, p: RebuildProgress): string {
  const fraction = p.head > 0 ? Math.min(1, p.position / p.head) : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const eta = p.etaSeconds === undefined ? 'ETA -' : `ETA ${formatSeconds(p.etaSeconds)}`;
  return `${name} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%  ${number(p.eventsRead)} events  ${number(p.eventsPerSecond)} ev/s  ${eta}`;
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s` : `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

export interface ProgressOutput {
  write(text: string): void;
  /** A terminal: the bar redraws in place; otherwise a line at most every second. */
  isTTY?: boolean;
}

/** Rebuilds the named projections in one pass over the log, drawing the progress on `output`; returns a summary line. */
export async function runRebuild(store: ReadStore, events: EventStore, names: readonly string[], output: ProgressOutput): Promise<string> {
  const projections = names.map((name) => projectionNamed(name)).filter((p): p is AnyProjection => p !== undefined);
  if (projections.length !== names.length) throw new UsageError(`unknown projection among ${names.join(', ')}`);
  const label = names.join('+');
  let lastLine = 0;
  let last: RebuildProgress | undefined;
  const result = await rebuildProjections(store, events, projections, {
    onProgress: (progress) => {
      last = progress;
      if (output.isTTY) output.write(`\r${progressLine(label, progress)}`);
      else if (Date.now() - lastLine >= 1000) {
        lastLine = Date.now();
        output.write(`${progressLine(label, progress)}\n`);
      }
    },
  });
  if (last) output.write(output.isTTY ? '\n' : `${progressLine(label, last)}\n`);
  return `${label}: rebuilt to position ${result.position} from ${number(result.eventsRead)} events in ${result.seconds.toFixed(1)} s, swapped in`;
}
