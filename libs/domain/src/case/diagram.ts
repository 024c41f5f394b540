import { TRANSITIONS, fromStatuses, type TransitionRow } from './transitions';

const label = (row: TransitionRow): string => {
  const what = row.action === 'deadline-passed' ? `${row.deadline} passed` : row.action;
  return row.variant && row.action !== 'deadline-passed' ? `${what} (${row.variant})` : what;
};

/**
 * Mermaid `stateDiagram-v2` of the transition table: one arrow per status
 * change, labelled with the action (or the deadline that passed); rows that
 * leave the status unchanged are listed as notes so nothing is hidden.
 */
export function transitionDiagram(): string {
  const arrows: string[] = [];
  const seen = new Set<string>();
  const add = (line: string) => {
    if (!seen.has(line)) {
      seen.add(line);
      arrows.push(line);
    }
  };
  for (const row of TRANSITIONS) {
    const from = fromStatuses(row);
    const sources = from === 'none' ? ['[*]'] : from;
    for (const source of sources) {
      for (const next of row.next) {
        if (next === 'unchanged' || next === source) continue;
        add(`    ${source} --> ${next} : ${label(row)}`);
      }
    }
  }
  add('    completed --> [*]');
  add('    closed --> [*]');
  const unchanged = TRANSITIONS.filter((r) => r.next.includes('unchanged') && Array.isArray(r.from));
  const notes = new Map<string, string[]>();
  for (const row of unchanged) {
    for (const status of fromStatuses(row) as readonly string[]) {
      notes.set(status, [...(notes.get(status) ?? []), label(row)]);
    }
  }
  const noteLines = [...notes].map(([status, actions]) => `    note right of ${status} : ${[...new Set(actions)].join(', ')}`);
  const anyOpen = TRANSITIONS.filter((r) => r.from === 'any-open').map(label);
  const any = TRANSITIONS.filter((r) => r.from === 'any').map(label);
  return [
    'stateDiagram-v2',
    ...arrows,
    ...noteLines,
    `    %% any open status: ${[...new Set(anyOpen)].join(', ')}`,
    `    %% any status with money or a claim outstanding: ${[...new Set(any)].join(', ')}`,
    '',
  ].join('\n');
}
