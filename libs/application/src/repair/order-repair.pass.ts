import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { caseStream } from '@aftersales/domain';
import { ConcurrencyError, type EventStore, type StoredEvent } from '@aftersales/event-store';
import { Clock } from '../commands/clock';
import { ORDER_REPAIR_ACTOR, OrderFollowUpService } from '../commands/order-follow-up.service';
import { toNewEvents, type CommandOrigin } from '../events/metadata';
import { loadOrder } from '../events/streams';
import { timeOrderedUuid } from '../ids/time-ordered-uuid';
import { EVENT_STORE } from '../infrastructure/tokens';

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

const ORDER_PREFIX = 'order-';
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
  private timer?: NodeJS.Timeout;
  private running?: Promise<RepairReport>;
  abandonAfterMs = ABANDON_UNWRITTEN_CASE_AFTER_MS;
  /** Running totals for metrics. */
  readonly totals = { passes: 0, failedPasses: 0, abandoned: 0, watching: 0 };

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly followUps: OrderFollowUpService,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.runOnce().catch((error: Error) => this.logger.warn(`repair pass failed: ${error.message}`)), REPAIR_INTERVAL_MS);
    this.timer.unref();
    void this.runOnce().catch((error: Error) => this.logger.warn(`repair pass failed: ${error.message}`));
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass; concurrent calls share it. */
  runOnce(): Promise<RepairReport> {
    this.running ??= this.pass()
      .then(
        (report) => {
          this.totals.passes += 1;
          this.totals.abandoned += report.abandoned.length;
          this.totals.watching = report.watching;
          return report;
        },
        (error: unknown) => {
          this.totals.failedPasses += 1;
          throw error;
        },
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<RepairReport> {
    await this.follow();
    const report: RepairReport = { checked: 0, abandoned: [], watching: 0 };
    const origin: CommandOrigin = { actor: ORDER_REPAIR_ACTOR, channel: 'api', correlationId: timeOrderedUuid() };
    for (const [caseId, orderId] of [...this.watched]) {
      report.checked += 1;
      const repair = await this.followUps.reconcile(orderId, caseId, origin);
      const hold = repair.undecidedHold;
      if (hold && this.clock.now().getTime() - Date.parse(hold.heldAt ?? '1970-01-01T00:00:00Z') >= this.abandonAfterMs) {
        if (await this.abandon(caseId, orderId, origin)) report.abandoned.push(caseId);
        await this.followUps.reconcile(orderId, caseId, origin);
      }
      if (!(await this.owesSomething(orderId, caseId))) this.watched.delete(caseId);
    }
    report.watching = this.watched.size;
    return report;
  }

  /** Reads what the log gained since the last pass and watches every pair an order obligation names. */
  private async follow(): Promise<void> {
    for (;;) {
      const batch: StoredEvent[] = await this.store.readAll({ after: this.checkpoint });
      if (batch.length === 0) return;
      for (const event of batch) {
        if (OBLIGATIONS.has(event.type) && event.streamName.startsWith(ORDER_PREFIX)) {
          const caseId = (event.data as { caseId?: string }).caseId;
          if (caseId) this.watched.set(caseId, event.streamName.slice(ORDER_PREFIX.length));
        }
      }
      this.checkpoint = batch[batch.length - 1].position;
    }
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
