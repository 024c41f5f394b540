import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds (utime + stime) of each thread of a process, by thread id, from /proc (empty elsewhere). */
export function threadCpuSeconds(pid: number | undefined): Map<number, { name: string; seconds: number }> {
  const threads = new Map<number, { name: string; seconds: number }>();
  if (!pid) return threads;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      threads.set(Number(tid), { name, seconds: (Number(fields[11]) + Number(fields[12])) / 100 }); // USER_HZ is 100 on Linux
    } catch {
      // the thread ended
    }
  }
  return threads;
}

/**
 * The threads that used most CPU between two readings, busiest first: on a
 * shared machine the CPU a thread used per deadline says more than the rate,
 * which follows whatever else runs. The worker thread is the busiest in a drain.
 */
export function busiestThreads(
  before: Map<number, { name: string; seconds: number }>,
  after: Map<number, { name: string; seconds: number }>,
  count: number,
): { tid: number; name: string; seconds: number }[] {
  return [...after]
    .map(([tid, { name, seconds }]) => ({ tid, name, seconds: seconds - (before.get(tid)?.seconds ?? 0) }))
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, count);
}
