import { AsyncLocalStorage } from 'node:async_hooks';
import { Clock } from '@aftersales/application';

/**
 * The time of the seeded world, read by the command handlers. Commands of
 * different orders run side by side, each at its own simulated instant, so
 * the instant belongs to the command's async context rather than to the
 * clock: `at(ms, run)` is "now is ms" for everything `run` calls.
 */
export class SimulatedClock extends Clock {
  private readonly instant = new AsyncLocalStorage<number>();

  constructor(private readonly outside: number) {
    super();
  }

  now(): Date {
    return new Date(this.instant.getStore() ?? this.outside);
  }

  at<T>(ms: number, run: () => Promise<T>): Promise<T> {
    return this.instant.run(ms, run);
  }
}
