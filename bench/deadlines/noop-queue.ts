/*
 * The queue's own ceiling: the same number of delayed jobs, due at one
 * moment, on a plain BullMQ Queue with a Worker whose processor does nothing,
 * on the same Redis as the service, with the deadline queue's job options
 * and concurrency. Whatever the service adds on top of this is ours.
 */
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { JOB_OPTIONS } from '@aftersales/scheduling';
import type { Redis } from 'ioredis';
import { delayedJobs, usedMemory } from './redis';

const QUEUE = 'noop-bench';
/** DeadlineProcessor's concurrency (apps/worker/src/processors/deadline.processor.ts). */
export const DEADLINE_CONCURRENCY = 64;
const ADD_CHUNK = 1000;

export interface NoopRun {
  count: number;
  dueAt: number;
  /** finishedOn of each job minus its due time, ms. */
  lateness: number[];
  lastFinishedAt: number;
  bytesPerJob: number;
  enqueueSeconds: number;
}

function connectionOf(url: string): ConnectionOptions {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port), maxRetriesPerRequest: null };
}

/** Adds `count` jobs due `leadMs` after they are all in, runs them with an empty processor, and reports when each finished. */
export async function runNoopQueue(redisUrl: string, client: Redis, count: number, leadMs: number, timeoutMs: number): Promise<NoopRun> {
  const connection = connectionOf(redisUrl);
  const queue = new Queue(QUEUE, { connection });
  let worker: Worker | undefined;
  try {
    await queue.waitUntilReady();
    const before = await usedMemory(client);
    // Due a little after the estimated end of enqueueing; the real enqueue time is checked below.
    const estimateMs = Math.max(2000, count * 0.5);
    const dueAt = Date.now() + estimateMs + leadMs;
    const enqueueStart = performance.now();
    for (let from = 0; from < count; from += ADD_CHUNK) {
      const now = Date.now();
      await queue.addBulk(
        Array.from({ length: Math.min(ADD_CHUNK, count - from) }, (_, k) => ({
          name: QUEUE,
          // The shape and size of a deadline job's data.
          data: { caseId: `019ad0c8-0000-7000-8000-${String(from + k).padStart(12, '0')}`, dueAt, work: { name: 'merchantResponse', dueAt: new Date(dueAt).toISOString() } },
          opts: { ...JOB_OPTIONS.deadlines, jobId: `noop-${from + k}`, delay: Math.max(0, dueAt - now) },
        })),
      );
    }
    const enqueueSeconds = (performance.now() - enqueueStart) / 1000;
    if (Date.now() >= dueAt) throw new Error(`enqueueing ${count} no-op jobs took ${enqueueSeconds.toFixed(1)} s, past their due time; raise the lead`);
    const delayed = await delayedJobs(client, QUEUE);
    if (delayed !== count) throw new Error(`${delayed} no-op jobs delayed, expected ${count}`);
    const bytesPerJob = ((await usedMemory(client)) - before) / count;

    const lateness: number[] = [];
    let lastFinishedAt = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    worker = new Worker(QUEUE, async () => undefined, { connection, concurrency: DEADLINE_CONCURRENCY });
    worker.on('completed', (job: Job) => {
      const finishedOn = job.finishedOn ?? Date.now();
      lateness.push(finishedOn - dueAt);
      lastFinishedAt = Math.max(lastFinishedAt, finishedOn);
      if (lateness.length === count) resolveDone();
    });
    const timer = setTimeout(() => resolveDone(), dueAt - Date.now() + timeoutMs);
    await done;
    clearTimeout(timer);
    if (lateness.length !== count) throw new Error(`only ${lateness.length} of ${count} no-op jobs completed within ${timeoutMs / 1000} s of their due time`);
    return { count, dueAt, lateness, lastFinishedAt, bytesPerJob, enqueueSeconds };
  } finally {
    await worker?.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}
