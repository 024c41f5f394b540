import { readFileSync } from 'node:fs';
import { Gauge, type Registry } from 'prom-client';

const THREAD_STAT = '/proc/thread-self/stat';
/** Linux counts a thread's CPU time in clock ticks of 1/100 s (USER_HZ). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) used so far by the calling thread alone; undefined where /proc cannot tell. */
export function threadCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync(THREAD_STAT, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * `aftersales_thread_cpu_seconds{role}`: the CPU time of the thread that runs
 * a role. With every role in one process (`npm start`), the process's CPU
 * says how busy the machine is but not which role makes it so; this says
 * whether the API, the worker or the projector does, which is what decides
 * which role to move to a process of its own. Read when scraped, so it must
 * be registered from the role's own thread. Absent where the system has no
 * per-thread /proc (not Linux).
 */
export function registerThreadCpu(registry: Registry, role: string): void {
  if (threadCpuSeconds() === undefined) return;
  new Gauge({
    name: 'aftersales_thread_cpu_seconds',
    help: 'CPU time (user + system, seconds) used by the thread running this role (the event loop thread, not the helper threads beside it)',
    labelNames: ['role'],
    registers: [registry],
    collect() {
      const seconds = threadCpuSeconds();
      if (seconds !== undefined) this.set({ role }, seconds);
    },
  });
}
