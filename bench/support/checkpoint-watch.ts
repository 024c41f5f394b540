import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { WatchThreadInput, WatchThreadOutput } from './checkpoint-watch-thread';

/** When each projection's stored checkpoint was first seen at or past a position. */
export class CheckpointHistory {
  constructor(readonly raw: WatchThreadOutput) {}

  get projections(): string[] {
    return Object.keys(this.raw.seen).sort();
  }

  /** Mean time between two polls, in ms: the resolution of every time below. */
  get pollIntervalMs(): number {
    return this.raw.polls > 1 ? (this.raw.stoppedAt - this.raw.startedAt) / (this.raw.polls - 1) : Number.NaN;
  }

  /** The first time `projection` was seen at `position` or beyond; undefined if it never was while watched. */
  reachedAt(projection: string, position: number): number | undefined {
    const list = this.raw.seen[projection] ?? [];
    let low = 0;
    let high = list.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (list[mid][0] >= position) high = mid;
      else low = mid + 1;
    }
    return low < list.length ? list[low][1] : undefined;
  }

  /** How many times the checkpoint moved while watched (the projection's stored batches, give or take a poll). */
  moves(projection: string): number {
    return Math.max(0, (this.raw.seen[projection]?.length ?? 0) - 1);
  }
}

/** Starts polling `rm_checkpoints` of the SQLite file every `intervalMs` in a worker thread. */
export function watchCheckpoints(sqlitePath: string, intervalMs = 2): { stop(): Promise<CheckpointHistory> } {
  const input: WatchThreadInput = { sqlitePath, intervalMs };
  const worker = new Worker(join(__dirname, 'checkpoint-watch-thread.js'), { workerData: input });
  const failed = new Promise<never>((_, reject) => worker.once('error', reject));
  failed.catch(() => undefined); // reported by stop()
  return {
    async stop() {
      const output = new Promise<WatchThreadOutput>((resolve) => worker.once('message', resolve));
      worker.postMessage('stop');
      const result = await Promise.race([output, failed]);
      await worker.terminate();
      return new CheckpointHistory(result);
    },
  };
}
