import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { caseStream } from '@aftersales/domain';
import { ConcurrencyError, type EventStore, type StoredEvent } from '@aftersales/event-store';
import { Clock } from '../commands/clock';
import { ORDER_REPAIR_ACTOR, OrderFollowUpService } from '../commands/order-follow-up.service';
import { toNewEvents, type CommandOrigin } from '../events/metadata';
import { loadOrder } from '../events/streams';
import { timeOrderedUuid } from '../ids/time-ordered-uuid';
import { EVENT_STORE } from '../infrastructure/tokens';
import { PeriodicPass } from '../periodic/periodic-pass';

/** How often the pass runs in a started service. */
export const REPAIR_INTERVAL_MS = 30_000;

/**
 * How long lines held for a case that was never written are left alone
 * before the case id is fenced. Correctness does not rest on it (the fence
 * is an append with an expected revision); it only keeps a slow request, or
 * a client retrying with its Idempotency-Key, from finding its case id
 * abandoned.
 */
export const ABANDON_UNWRITTEN_CASE_AFTER_MS = 15 * 60_000;

/**
 * The longest the pass works before it lets the event loop take its turn.
 * It shares the process with the command path: its stream reads resolve at
 * once, so without a turn of its own a pass over tens of thousands of pairs
 * (or of the log since the last pass) held every request for seconds.
 */
const SLICE_MS = 10;

/** A turn of the event loop: I/O and timers due now run before the pass goes on. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const ORDER_PREFIX = 'order-';
const CASE_PREFIX = caseStream('');

/** An order event that holds lines or reserves money for a case: the pair is watched from then on. */
const OBLIGATIONS = new Set(['OrderLinesHeld', 'RefundReserved']);

export interface RepairReport {
  /** Order/case pairs looked at. */
  checked: number;
  /** Case ids fenced with RequestAbandoned. */
  abandoned: string[];
  /** Pairs still watched after the pass (open cases holding lines, undecided reservations). */
  watching: number;
}

/**
 * The repair pass (ARCHITECTURE.md, rule 6): follows the log for every
 * order/case pair that ever held lines or reserved money, and reconciles
 * each until the order owes the case nothing more: lines of ended cases
 * released, reservations of settled refunds settled, and whatever a crash,
 * a failure or a lost race left behind released once it can never be
 * recorded. Every repair is an idempotent order command, so several
 * processes may run the pass at once.
 *
 * The pairs are kept in memory and found again from the start of the log
 * when the process starts; the log only shows what is on disk, so nothing
 * is repaired on the strength of an event a power cut could take back.
 */
@Injectable()
export class OrderRepairPass implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OrderRepairPass.name);
  private checkpoint = 0;
  /** caseId → orderId, for pairs the order may still owe something. */
  private readonly watched = new Map<string, string>();
  /** orderId → its watched cases: an order event may change what the order owes any of them. */
  private readonly casesOfOrder = new Map<string, Set<string>>();
  /**
   * Watched pairs with events on either stream since they were last
   * reconciled. A repair is a function of the two streams (and, for an
   * unwritten case, of the clock), so a pair nothing was appended to since
   * it was reconciled needs nothing more: the pass looks at these and at
   * `unwritten` only, not at every open case on every pass.
   */
  private readonly changed = new Set<string>();
  /** Pairs whose lines are held for a case not written yet: whether to fence them depends on the clock. */
  private readonly unwritten = new Set<string>();
  /**
   * What the order streams owe each watched case, as their events say:
   * cases whose lines are held, and reserved refunds by refund id. Kept
   * from the order events the pass reads anyway (the same rules as
   * `evolveOrder`), so a pair whose order has released its lines and
   * settled or released its money is let go as soon as those events are
   * read, without reading either stream: the repair would find nothing to
   * do. Without it a restart reconciled every pair the log ever held, two
   * full stream reads each (a minute of CPU on 200,000 cases).
   */
  private readonly held = new Set<string>();
  /** `<orderId> <refundId>` → caseId, for reservations not yet settled or released. */
  private readonly reserved = new Map<string, string>();
  private readonly reservedPerCase = new Map<string, number>();
  abandonAfterMs = ABANDON_UNWRITTEN_CASE_AFTER_MS;
  /** Running totals for metrics. */
  readonly totals = { passes: 0, failedPasses: 0, abandoned: 0, watching: 0 };
  private readonly periodic = new PeriodicPass(() => this.pass(), {
    done: (report) => {
      this.totals.passes += 1;
      this.totals.abandoned += report.abandoned.length;
      this.totals.watching = report.watching;
    },
    failed: (error) => {
      this.totals.failedPasses += 1;
      this.logger.warn(`repair pass failed: ${error.message}`);
    },
  });

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly followUps: OrderFollowUpService,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.periodic.start(REPAIR_INTERVAL_MS);
  }

  onModuleDestroy(): Promise<void> {
    return this.periodic.stop();
  }

  /** One pass; concurrent calls share it. */
  runOnce(): Promise<RepairReport> {
    return this.periodic.runOnce();
  }

  private async pass(): Promise<RepairReport> {
    await this.follow();
    const report: RepairReport = { checked: 0, abandoned: [], watching: 0 };
    const origin: CommandOrigin = { actor: ORDER_REPAIR_ACTOR, channel: 'api', correlationId: timeOrderedUuid() };
    let sliceStarted = performance.now();
    for (const caseId of new Set([...this.changed, ...this.unwritten])) {
      if (performance.now() - sliceStarted >= SLICE_MS) {
        await nextTurn();
        sliceStarted = performance.now();
      }
      const orderId = this.watched.get(caseId);
      if (orderId === undefined) continue;
      report.checked += 1;
      let repair = await this.followUps.reconcile(orderId, caseId, origin);
      const hold = repair.undecidedHold;
      if (hold && this.clock.now().getTime() - Date.parse(hold.heldAt ?? '1970-01-01T00:00:00Z') >= this.abandonAfterMs) {
        if (await this.abandon(caseId, orderId, origin)) report.abandoned.push(caseId);
        repair = await this.followUps.reconcile(orderId, caseId, origin);
      }
      // Only once reconciled: a pass that fails on the way leaves the rest for the next one.
      this.changed.delete(caseId);
      if (repair.undecidedHold) this.unwritten.add(caseId);
      else this.unwritten.delete(caseId);
      if (!(await this.owesSomething(orderId, caseId))) this.unwatch(caseId);
    }
    report.watching = this.watched.size;
    return report;
  }

  /**
   * Reads what the log gained since the last pass, watches every pair an
   * order obligation names, and marks the watched pairs whose order or case
   * stream gained events.
   */
  private async follow(): Promise<void> {
    for (;;) {
      const batch: StoredEvent[] = await this.store.readAll({ after: this.checkpoint });
      if (batch.length === 0) return;
      for (const event of batch) {
        if (event.streamName.startsWith(ORDER_PREFIX)) {
          const orderId = event.streamName.slice(ORDER_PREFIX.length);
          const caseId = OBLIGATIONS.has(event.type) ? (event.data as { caseId?: string }).caseId : undefined;
          if (caseId) this.watch(caseId, orderId);
          const discharged = this.track(orderId, event);
          for (const watchedCase of this.casesOfOrder.get(orderId) ?? []) this.changed.add(watchedCase);
          if (discharged !== undefined && this.watched.get(discharged) === orderId && !this.owedOnRecord(discharged)) this.unwatch(discharged);
        } else if (event.streamName.startsWith(CASE_PREFIX)) {
          const caseId = event.streamName.slice(CASE_PREFIX.length);
          if (this.watched.has(caseId)) this.changed.add(caseId);
        }
      }
      this.checkpoint = batch[batch.length - 1].position;
      await nextTurn();
    }
  }

  /**
   * Moves `held` and `reserved` by one order event, as `evolveOrder` moves
   * the order's holds and reservations; returns the case an event released
   * something of.
   */
  private track(orderId: string, event: StoredEvent): string | undefined {
    const data = event.data as { caseId?: string; refundId?: string };
    // Reservations are the order's, by refund id: keyed by both, as the order keeps them.
    const refund = data.refundId === undefined ? undefined : `${orderId} ${data.refundId}`;
    switch (event.type) {
      case 'OrderLinesHeld':
        if (data.caseId !== undefined) this.held.add(data.caseId);
        return undefined;
      case 'OrderLinesReleased':
        if (data.caseId === undefined) return undefined;
        this.held.delete(data.caseId);
        return data.caseId;
      case 'RefundReserved': {
        if (refund === undefined || data.caseId === undefined) return undefined;
        const before = this.reserved.get(refund);
        if (before !== undefined) this.countReserved(before, -1);
        this.reserved.set(refund, data.caseId);
        this.countReserved(data.caseId, +1);
        return before !== undefined && before !== data.caseId ? before : undefined;
      }
      case 'RefundReservationSettled':
      case 'RefundReservationReleased': {
        const caseId = refund === undefined ? undefined : this.reserved.get(refund);
        if (caseId === undefined) return undefined;
        this.reserved.delete(refund!);
        this.countReserved(caseId, -1);
        return caseId;
      }
      default:
        return undefined;
    }
  }

  private countReserved(caseId: string, by: number): void {
    const count = (this.reservedPerCase.get(caseId) ?? 0) + by;
    if (count > 0) this.reservedPerCase.set(caseId, count);
    else this.reservedPerCase.delete(caseId);
  }

  /** Whether the order events read so far leave lines held or money reserved for the case. */
  private owedOnRecord(caseId: string): boolean {
    return this.held.has(caseId) || this.reservedPerCase.has(caseId);
  }

  private watch(caseId: string, orderId: string): void {
    this.watched.set(caseId, orderId);
    let cases = this.casesOfOrder.get(orderId);
    if (!cases) this.casesOfOrder.set(orderId, (cases = new Set()));
    cases.add(caseId);
  }

  private unwatch(caseId: string): void {
    const orderId = this.watched.get(caseId);
    this.watched.delete(caseId);
    this.changed.delete(caseId);
    this.unwritten.delete(caseId);
    const cases = orderId === undefined ? undefined : this.casesOfOrder.get(orderId);
    cases?.delete(caseId);
    if (orderId !== undefined && cases?.size === 0) this.casesOfOrder.delete(orderId);
  }

  /**
   * The fence: a case stream written with RequestAbandoned can never be
   * created by the request that held the lines (it expects no stream), so
   * the lines can be released. Losing the race to that request is fine:
   * the case then exists and keeps its lines.
   */
  private async abandon(caseId: string, orderId: string, origin: CommandOrigin): Promise<boolean> {
    const events = toNewEvents([{ type: 'RequestAbandoned', data: { caseId, orderId } }], origin, this.clock.now());
    try {
      await this.store.append(caseStream(caseId), events, { expectedRevision: 'no_stream' });
      this.logger.warn(`case ${caseId} was never written after its lines were held on order ${orderId}: abandoned, lines released`);
      return true;
    } catch (error) {
      if (error instanceof ConcurrencyError) return false;
      throw error;
    }
  }

  /** Lines still held or money still reserved for the case: it stays watched until both are done. */
  private async owesSomething(orderId: string, caseId: string): Promise<boolean> {
    const order = (await loadOrder(this.store, orderId)).state;
    if (order.status === 'none') return false;
    return order.holds[caseId]?.active === true || Object.values(order.reservations).some((r) => r.caseId === caseId && r.status === 'reserved');
  }
}
