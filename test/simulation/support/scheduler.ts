import { setImmediate as nextTurn } from 'node:timers/promises';

/** A small seeded generator (mulberry32): the same seed gives the same run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type ProcessState = 'running' | 'parked' | 'done' | 'crashed';

/** One simulated process: its own memory (caches, locks) and one thing it does at a time. */
export class SimProcess {
  state: ProcessState = 'running';
  release?: () => void;
  constructor(readonly name: string) {}
}

/**
 * Runs simulated processes one at a time. A process runs until its next
 * store call, where it parks; the scheduler then lets one parked process
 * (chosen by the seeded generator) take its next step. Only one process
 * ever runs between two steps, so the interleaving depends on the seed
 * alone, whatever the store's own timing.
 */
export class Scheduler {
  readonly processes = new Set<SimProcess>();
  steps = 0;

  constructor(private readonly random: () => number) {}

  add(process: SimProcess): void {
    this.processes.add(process);
  }

  /** Called by a process before each store call. */
  turn(process: SimProcess): Promise<void> {
    return new Promise((resolve) => {
      process.state = 'parked';
      process.release = resolve;
    });
  }

  /** Waits until no process is running (each is parked, done or crashed). */
  async quiesce(): Promise<void> {
    for (let spins = 0; [...this.processes].some((p) => p.state === 'running'); spins += 1) {
      if (spins > 100_000) throw new Error('a simulated process never reached its next step');
      // Store calls that reach the disk finish on libuv's threads: give them real time now and then.
      if (spins % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 1));
      else await nextTurn();
    }
  }

  /** Lets one parked process take a step; false once none is parked. */
  async step(): Promise<boolean> {
    await this.quiesce();
    const parked = [...this.processes].filter((p) => p.state === 'parked');
    if (parked.length === 0) return false;
    const chosen = parked[Math.floor(this.random() * parked.length)];
    chosen.state = 'running';
    this.steps += 1;
    chosen.release?.();
    await this.quiesce();
    return true;
  }
}
