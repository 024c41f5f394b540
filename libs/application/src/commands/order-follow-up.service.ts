import { Inject, Injectable } from '@nestjs/common';
import {
  decideOrder,
  evolveOrder,
  orderStream,
  SYSTEM_ACTOR,
  type OrderCommand,
  type OrderEvent,
  type OrderState,
} from '@aftersales/domain';
import { ConcurrencyError, type EventStore } from '@aftersales/event-store';
import { toNewEvents, type CommandOrigin } from '../events/metadata';
import { appendToOrder, loadCase, loadOrder } from '../events/streams';
import { EVENT_STORE } from '../infrastructure/tokens';
import { Clock } from './clock';
import { ConcurrentWriteError } from './errors';

const MAX_ATTEMPTS = 6;

/**
 * Order-stream commands that follow a case decision (release lines, settle a
 * reservation) and the repair of a reservation whose case append lost a race.
 * Every one of them is idempotent in the domain, so running one twice (a retry,
 * or a later repair pass) records nothing the second time.
 */
@Injectable()
export class OrderFollowUpService {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly clock: Clock,
  ) {}

  async apply(orderId: string, commands: readonly OrderCommand[], origin: CommandOrigin): Promise<void> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const now = this.clock.now();
      const order = await loadOrder(this.store, orderId);
      const events = this.decide(order.state, commands, now);
      if (events.length === 0) return;
      try {
        await appendToOrder(this.store, orderId, order, toNewEvents(events, origin, now));
        return;
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
      }
    }
    throw new ConcurrentWriteError(orderStream(orderId), MAX_ATTEMPTS);
  }

  /** Releases what the order holds or reserves for `caseId` that the case stream does not know about. */
  async releaseOrphans(orderId: string, caseId: string, origin: CommandOrigin): Promise<void> {
    const [order, kase] = [await loadOrder(this.store, orderId), await loadCase(this.store, caseId)];
    if (order.state.status === 'none') return;
    const known = new Set(kase.state.status === 'none' ? [] : kase.state.refunds.map((r) => r.refundId));
    const commands: OrderCommand[] = Object.values(order.state.reservations)
      .filter((r) => r.caseId === caseId && r.status === 'reserved' && !known.has(r.refundId))
      .map((r) => ({ type: 'release-refund-reservation', actor: SYSTEM_ACTOR, data: { refundId: r.refundId } }));
    if (kase.state.status === 'none' && order.state.holds[caseId]?.active) {
      commands.push({ type: 'release-lines', actor: SYSTEM_ACTOR, data: { caseId, givenBack: [] } });
    }
    if (commands.length > 0) await this.apply(orderId, commands, { ...origin, actor: { role: 'system', id: 'order-repair' } });
  }

  private decide(state: OrderState, commands: readonly OrderCommand[], now: Date): OrderEvent[] {
    const events: OrderEvent[] = [];
    let current = state;
    for (const command of commands) {
      const decision = decideOrder(current, command, { now });
      // Follow-ups are consequences of recorded facts; a refusal here means
      // the order already reflects them (released, settled), so skip it.
      if (!decision.ok) continue;
      for (const event of decision.events) current = evolveOrder(current, event);
      events.push(...decision.events);
    }
    return events;
  }
}
