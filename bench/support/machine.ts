import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** The CPU as /proc/cpuinfo names it (what results are recorded against), or as Node reports it elsewhere. */
export function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) return match[1].trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown';
}

/** utime + stime of a process from /proc, in seconds (NaN elsewhere, or without a pid). */
export function processCpuSeconds(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks; USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds of each role's thread, from the service's /metrics (`aftersales_thread_cpu_seconds`; empty off Linux). */
export async function roleCpuSeconds(baseUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const roles = new Map<string, number>();
  for (const match of text.matchAll(/^aftersales_thread_cpu_seconds\{role="([^"]+)"\} ([0-9.e+-]+)$/gm)) roles.set(match[1], Number(match[2]));
  return roles;
}

/** "api 0.41 ms, worker 0.22 ms, ...": each role thread's CPU between two readings, per unit of work. */
export function rolesPer(before: Map<string, number>, after: Map<string, number>, units: number): string {
  return [...after]
    .map(([role, seconds]) => `${role} ${((1000 * (seconds - (before.get(role) ?? 0))) / units).toFixed(3)} ms`)
    .join(', ');
}
