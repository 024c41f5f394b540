import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { caseStream } from '@aftersales/domain';
import type { EventStore, EventSubscription, StoredEvent } from '@aftersales/event-store';
import { EVENT_STORE } from '../infrastructure/tokens';
import { PARCEL_INDEX, isCaseEnded, type ParcelChange, type ParcelIndex } from './parcel-index';

/** The case events that name a parcel the carrier will report on. */
const PARCEL_EVENTS = new Set(['ReturnShipped', 'PickupScheduled', 'ReplacementShipped']);
/** The case events that end a case, and with it its hold on its tracking numbers. */
const ENDING_EVENTS = new Set(['CaseCompleted', 'CaseClosed']);
const INDEXED_EVENTS = [...PARCEL_EVENTS, ...ENDING_EVENTS];
const CASE_STREAM_PREFIX = caseStream('');
/** Positions passed over move the stored checkpoint only this often: looking through them again after a restart is harmless. */
const CHECKPOINT_EVERY = 4096;
const RETRY_DELAY_MS = 1000;

export function parcelChangeOf(event: StoredEvent): ParcelChange | undefined {
  if (!event.streamName.startsWith(CASE_STREAM_PREFIX)) return undefined;
  const caseId = event.streamName.slice(CASE_STREAM_PREFIX.length);
  if (ENDING_EVENTS.has(event.type)) return { caseEnded: caseId };
  if (!PARCEL_EVENTS.has(event.type)) return undefined;
  const trackingNumber = (event.data as { trackingNumber?: unknown } | null)?.trackingNumber;
  if (typeof trackingNumber !== 'string' || trackingNumber === '') return undefined;
  return { trackingNumber, caseId };
}

interface Waiter {
  position: number;
  resolve: (reached: boolean) => void;
  timer: NodeJS.Timeout;
}

/**
 * Keeps the parcel index up to date by following the event store from the
 * index's checkpoint, for as long as the API process runs. There is no read
 * model yet to ask; this is the smallest one logistics callbacks need.
 */
@Injectable()
export class ParcelIndexProjector implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ParcelIndexProjector.name);
  private position = 0;
  private stored = 0;
  private stopped = false;
  private subscription?: EventSubscription;
  private running?: Promise<void>;
  private readonly waiters = new Set<Waiter>();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PARCEL_INDEX) private readonly index: ParcelIndex,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.position = this.stored = await this.index.checkpoint();
    this.running = this.follow();
  }

  // Before the event store closes (it does so on application shutdown), so the loop ends rather than retries.
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await this.subscription?.close();
    await this.running;
    if (this.position > this.stored) await this.index.record([], this.position).catch(() => undefined);
    for (const waiter of this.waiters) this.settle(waiter, false);
  }

  /** The global position of the last event taken in. */
  get checkpoint(): number {
    return this.position;
  }

  /** Resolves true once the index has taken in every event up to `position`, false after `timeoutMs`. */
  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    if (this.position >= position) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: Waiter = { position, resolve, timer: setTimeout(() => this.settle(waiter, false), timeoutMs) };
      this.waiters.add(waiter);
    });
  }

  private async follow(): Promise<void> {
    while (!this.stopped) {
      try {
        // Only parcel and case-ending events are read; the store reports how far it has looked past the others.
        const subscription = this.store.subscribeToAll({ after: this.position, eventTypes: INDEXED_EVENTS });
        this.subscription = subscription;
        if (this.stopped) {
          await subscription.close();
          return;
        }
        subscription.onCheckpoint((position) => this.passed(position));
        for await (const event of subscription) {
          const change = parcelChangeOf(event);
          if (change && (await this.changesIndex(change))) {
            await this.index.record([change], event.position);
            this.stored = event.position;
            this.advance(event.position);
          } else {
            this.passed(event.position);
          }
        }
      } catch (error) {
        if (this.stopped) return;
        this.logger.error(`parcel index subscription failed; resubscribing from ${this.position}: ${(error as Error).message}`);
      }
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
    }
  }

  /**
   * Most cases end holding no parcel (a refund without a return): their
   * ending is passed over like any other event, a read rather than a write
   * transaction per case (the events are read in order, so every number the
   * case bound is in the index by now).
   */
  private async changesIndex(change: ParcelChange): Promise<boolean> {
    return !isCaseEnded(change) || this.index.holdsParcels(change.caseEnded);
  }

  /** Events up to `position` held no parcel: nothing to index, and the stored checkpoint moves only now and then. */
  private passed(position: number): void {
    if (position - this.stored >= CHECKPOINT_EVERY) {
      this.stored = position;
      this.index.record([], position).catch((error: Error) => this.logger.error(`parcel index checkpoint failed at ${position}: ${error.message}`));
    }
    this.advance(position);
  }

  private advance(position: number): void {
    this.position = position;
    for (const waiter of this.waiters) if (waiter.position <= position) this.settle(waiter, true);
  }

  private settle(waiter: Waiter, reached: boolean): void {
    clearTimeout(waiter.timer);
    this.waiters.delete(waiter);
    waiter.resolve(reached);
  }
}
