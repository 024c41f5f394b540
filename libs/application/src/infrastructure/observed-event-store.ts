import type { AppendResult, EventStore, EventSubscription, ExpectedRevision, NewEvent, StoredEvent, SubscribeToAllOptions } from '@aftersales/event-store';
import { ConcurrencyError } from '@aftersales/event-store';

export type AppendOutcome = 'ok' | 'conflict' | 'error';

/** Told how long each append took until the store acknowledged it (metrics). */
export interface AppendObserver {
  appendObserved(seconds: number, outcome: AppendOutcome): void;
}

/** Wraps a store to time its appends; everything else passes straight through. */
export class ObservedEventStore implements EventStore {
  constructor(
    private readonly inner: EventStore,
    private readonly observer: AppendObserver,
  ) {}

  async append(streamName: string, events: NewEvent[], options: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    const started = process.hrtime.bigint();
    let outcome: AppendOutcome = 'error';
    try {
      const result = await this.inner.append(streamName, events, options);
      outcome = 'ok';
      return result;
    } catch (error) {
      if (error instanceof ConcurrencyError) outcome = 'conflict';
      throw error;
    } finally {
      this.observer.appendObserved(Number(process.hrtime.bigint() - started) / 1e9, outcome);
    }
  }

  readStream(streamName: string, options?: { fromRevision?: number; maxCount?: number }): Promise<StoredEvent[]> {
    return this.inner.readStream(streamName, options);
  }

  readAll(options?: { after?: number; maxCount?: number }): Promise<StoredEvent[]> {
    return this.inner.readAll(options);
  }

  subscribeToAll(options: SubscribeToAllOptions): EventSubscription {
    return this.inner.subscribeToAll(options);
  }

  headPosition(): Promise<number> {
    return this.inner.headPosition();
  }

  durable(): Promise<void> {
    return this.inner.durable();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
