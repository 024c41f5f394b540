/*
 * Where each thread of the service spent the drain (BENCH_CPU_PROF=1): the
 * API on the main thread, the worker and the projector on threads of their
 * own (each writes a profile). Self time by area and by function, and total
 * time of our own functions, over the samples inside a window of the
 * monotonic clock (µs, V8's profile clock).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

function areaOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const ours = /dist\/((?:libs|apps)\/[^/]+)/.exec(url);
  if (ours) return ours[1];
  if (url.startsWith('node:')) return url.replace(/^node:internal\/.*/, 'node:internal');
  return url;
}

const frameName = ({ functionName, url, lineNumber }: ProfileNode['callFrame']): string => {
  const where = url.replace(/^.*\/(node_modules|dist)\//, '$1/');
  return `${functionName || '(anonymous)'}${where ? ` ${where}:${lineNumber + 1}` : ''}`;
};

export function summariseProfile(dir: string, window: [number, number]): void {
  // CPU.<date>.<time>.<pid>.<thread id>.<sequence>.cpuprofile: thread 0 is the main thread.
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /^CPU\.\d+\.\d+\.\d+\.\d+\.\d+\.cpuprofile$/.test(f)).sort();
  } catch {
    files = [];
  }
  if (files.length === 0) {
    console.log(`No CPU profile was written in ${dir}.`);
    return;
  }
  for (const file of files) summariseThread(dir, file, window);
}

/** The role a thread ran, told by the code on its stacks. */
function roleOf(profile: CpuProfile): string {
  const urls = profile.nodes.map((n) => n.callFrame.url);
  if (urls.some((u) => /apps\/worker\/src\/processors\//.test(u))) return 'worker thread';
  if (urls.some((u) => /read-models\/src\/runner\//.test(u))) return 'projector thread';
  if (urls.some((u) => /apps\/api\/src\//.test(u))) return 'API (main thread)';
  return 'other thread';
}

function summariseThread(dir: string, file: string, window: [number, number]): void {
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (at < window[0] || at > window[1]) return;
    total += us;
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') idle += us;
    self.set(frameName(frame), (self.get(frameName(frame)) ?? 0) + us);
    const area = areaOf(frame.url, frame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const f = byId.get(n)!.callFrame;
      if (!/dist\/(libs|apps)\/|node_modules\/(bullmq|ioredis|@nestjs\/cqrs)\//.test(f.url)) continue;
      const name = frameName(f);
      if (!seen.has(name)) inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      seen.add(name);
    }
  });
  const pct = (us: number) => `${((100 * us) / total).toFixed(1)}%`.padStart(6);
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  if (total === 0 || idle / total > 0.99) return; // a thread that did nothing in the window (the store's helpers)
  console.log(`\nService CPU profile, ${roleOf(profile)} (${join(dir, file)}), drain window only: ${(total / 1e6).toFixed(1)} s of samples, ${pct(idle)} idle.`);
  console.log('Self time by area:');
  for (const [area, us] of top(areas, 15)) console.log(`  ${pct(us)}  ${area}`);
  console.log('Top functions by self time:');
  for (const [fn, us] of top(self, 25)) console.log(`  ${pct(us)}  ${fn}`);
  console.log('Ours, BullMQ, ioredis and the command bus by total time (self and callees):');
  for (const [fn, us] of top(inclusive, 30)) console.log(`  ${pct(us)}  ${fn}`);
}
