/*
 * BENCH_PROBE=1: what bench/support/stall-probe.ts wrote from inside the
 * service during the drain: event-loop stalls, slow SQLite calls (grouped by
 * statement) and long GC pauses, in wall-clock time.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { ProbeRecord } from '../support/stall-probe';

export function summariseProbe(path: string, window: [number, number]): void {
  if (!existsSync(path)) {
    console.log(`No probe log at ${path}.`);
    return;
  }
  const records = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ProbeRecord)
    .filter((r) => r.at >= window[0] && r.at <= window[1]);
  const seconds = (window[1] - window[0]) / 1000;
  const gaps = records.filter((r) => r.kind === 'gap' && r.thread === 0);
  const gcs = records.filter((r) => r.kind === 'gc');
  const sum = (rs: ProbeRecord[]) => rs.reduce((t, r) => t + r.ms, 0);
  const max = (rs: ProbeRecord[]) => rs.reduce((m, r) => Math.max(m, r.ms), 0);
  console.log(`\nStall probe over the drain (${seconds.toFixed(1)} s):`);
  console.log(`  main-thread event-loop stalls ≥ 200 ms: ${gaps.length}, ${(sum(gaps) / 1000).toFixed(1)} s in all, longest ${max(gaps).toFixed(0)} ms`);
  console.log(`  GC pauses ≥ 50 ms: ${gcs.length}, ${(sum(gcs) / 1000).toFixed(1)} s in all, longest ${max(gcs).toFixed(0)} ms`);
  const bySql = new Map<string, { n: number; ms: number; max: number; where: string }>();
  for (const r of records) {
    if (r.kind !== 'statement') continue;
    const key = `${r.connection.replace(/^thread \d+ connection \d+ /, '')}: ${r.sql}`;
    const entry = bySql.get(key) ?? { n: 0, ms: 0, max: 0, where: r.stack.find((s) => /dist\/(libs|apps)\//.test(s)) ?? r.stack[0] ?? '' };
    entry.n += 1;
    entry.ms += r.ms;
    entry.max = Math.max(entry.max, r.ms);
    bySql.set(key, entry);
  }
  console.log('  SQLite calls ≥ 50 ms, by statement (count, total, longest, first frame of ours):');
  for (const [sql, e] of [...bySql].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) {
    console.log(`    ${e.n}× ${(e.ms / 1000).toFixed(1)} s, max ${e.max.toFixed(0)} ms  ${sql}\n        ${e.where}`);
  }
}
