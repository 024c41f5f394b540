import { Clock } from '@aftersales/application';

/** The time of the seeded world: moved forward by the simulation, read by the command handlers. */
export class SimulatedClock extends Clock {
  private at: number;

  constructor(start: number) {
    super();
    this.at = start;
  }

  now(): Date {
    return new Date(this.at);
  }

  /** Moves to `at`; never backwards, so every stream's events stay in time order. */
  set(at: number): void {
    if (at > this.at) this.at = at;
  }
}
