import {
  EventStoreUnavailableError,
  type AppendResult,
  type EventStore,
  type EventSubscription,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type StoredEvent,
  type SubscribeToAllOptions,
} from '@aftersales/event-store';
import type { Scheduler, SimProcess } from './scheduler';

/**
 * What can go wrong at an append:
 * - `refused`: the store answers an error, nothing written;
 * - `lost`: the write never reached the store (the same, seen from the caller);
 * - `ambiguous`: written, but the caller is told it failed;
 * - `crash-before` / `crash-after`: the process dies before or after the write, its memory gone.
 */
export type Fault = 'refused' | 'lost' | 'ambiguous' | 'crash-before' | 'crash-after';
export const FAULTS: readonly Fault[] = ['refused', 'lost', 'ambiguous', 'crash-before', 'crash-after'];

/** Decides, at each append, whether (and how) it fails. */
export type FaultPlan = (append: { process: string; stream: string; types: string[] }) => Fault | undefined;

export interface FaultLog {
  fault: Fault;
  process: string;
  stream: string;
  types: string[];
}

/**
 * A process's view of the shared store: every call waits for the
 * scheduler's turn, and appends fail as the plan says. Each process gets its
 * own instance, so the command path's per-store caches are its own memory.
 */
export class FaultyStore implements EventStore {
  constructor(
    private readonly base: EventStore,
    private readonly process: SimProcess,
    private readonly scheduler: Scheduler,
    private readonly plan: FaultPlan,
    private readonly faults: FaultLog[],
  ) {}

  async append(streamName: string, events: NewEvent[], options: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    await this.scheduler.turn(this.process);
    const fault = this.plan({ process: this.process.name, stream: streamName, types: events.map((e) => e.type) });
    if (fault) this.faults.push({ fault, process: this.process.name, stream: streamName, types: events.map((e) => e.type) });
    switch (fault) {
      case 'refused':
      case 'lost':
        throw new EventStoreUnavailableError(`injected: ${fault}`);
      case 'ambiguous':
        await this.base.append(streamName, events, options);
        throw new EventStoreUnavailableError('injected: written, reported failed');
      case 'crash-before':
        return this.crash();
      case 'crash-after':
        await this.base.append(streamName, events, options).catch(() => undefined);
        return this.crash();
      default:
        return this.base.append(streamName, events, options);
    }
  }

  async readStream(streamName: string, options?: ReadStreamOptions): Promise<StoredEvent[]> {
    await this.scheduler.turn(this.process);
    return this.base.readStream(streamName, options);
  }

  async readAll(options?: ReadAllOptions): Promise<StoredEvent[]> {
    await this.scheduler.turn(this.process);
    return this.base.readAll(options);
  }

  subscribeToAll(options: SubscribeToAllOptions): EventSubscription {
    return this.base.subscribeToAll(options);
  }

  async headPosition(): Promise<number> {
    await this.scheduler.turn(this.process);
    return this.base.headPosition();
  }

  async durable(): Promise<void> {
    await this.scheduler.turn(this.process);
    return this.base.durable();
  }

  async close(): Promise<void> {}

  /** The process stops here for good: nothing after this point of its code ever runs. */
  private crash(): Promise<never> {
    this.process.state = 'crashed';
    return new Promise<never>(() => undefined);
  }
}
