import { Inject, Injectable } from '@nestjs/common';
import {
  decideOrder,
  evolveOrder,
  orderStream,
  repairOrderForCase,
  type OrderCommand,
  type OrderEvent,
  type OrderRepair,
  type OrderState,
} from '@aftersales/domain';
import { ConcurrencyError, type EventStore } from '@aftersales/event-store';
import { toNewEvents, type CommandOrigin } from '../events/metadata';
import { appendToOrder, loadCase, loadOrder } from '../events/streams';
import { EVENT_STORE } from '../infrastructure/tokens';
import { Clock } from './clock';
import { ConcurrentWriteError } from './errors';

const MAX_ATTEMPTS = 6;

/** Who the order's repairs are recorded as. */
export const ORDER_REPAIR_ACTOR = { role: 'system', id: 'order-repair' } as const;

/**
 * Brings an order stream in line with one of its cases: releases the lines
 * of an ended case, settles the reservation of a settled refund, and
 * releases holds and reservations whose case decision can never be recorded
 * (the domain's `repairOrderForCase`). Runs after every case append, and
 * from the repair pass for whatever a crash or a failure left behind; every
 * step is idempotent, so running it twice records nothing the second time.
 */
@Injectable()
export class OrderFollowUpService {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly clock: Clock,
  ) {}

  /** Returns what is still undecided (nothing released for it), for the repair pass. */
  async reconcile(orderId: string, caseId: string, origin: CommandOrigin): Promise<OrderRepair> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const now = this.clock.now();
      // The order first, then the case (see repairOrderForCase).
      const order = await loadOrder(this.store, orderId);
      const kase = await loadCase(this.store, caseId);
      const repair = repairOrderForCase(order.state, caseId, kase);
      const events = decideFollowUps(order.state, repair.commands, now);
      if (events.length === 0) return repair;
      try {
        await appendToOrder(this.store, orderId, order, toNewEvents(events, origin, now));
        return { ...repair, commands: [] };
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
      }
    }
    throw new ConcurrentWriteError(orderStream(orderId), MAX_ATTEMPTS);
  }
}

/**
 * Order events for follow-up commands. They are consequences of recorded
 * facts; a refusal means the order already reflects one (released,
 * settled), so it is skipped.
 */
export function decideFollowUps(state: OrderState, commands: readonly OrderCommand[], now: Date): OrderEvent[] {
  const events: OrderEvent[] = [];
  let current = state;
  for (const command of commands) {
    const decision = decideOrder(current, command, { now });
    if (!decision.ok) continue;
    for (const event of decision.events) current = evolveOrder(current, event);
    events.push(...decision.events);
  }
  return events;
}
