import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { decideOrder, orderStream } from '@aftersales/domain';
import { ConcurrencyError, type EventStore } from '@aftersales/event-store';
import { toNewEvents } from '../events/metadata';
import { appendToOrder, loadOrder } from '../events/streams';
import { EVENT_STORE } from '../infrastructure/tokens';
import { Clock } from './clock';
import { CommandRefusedError, ConcurrentWriteError } from './errors';
import { ExecuteOrderCommand, type OrderCommandResult } from './order-commands';

const MAX_ATTEMPTS = 6;

@CommandHandler(ExecuteOrderCommand)
export class ExecuteOrderCommandHandler implements ICommandHandler<ExecuteOrderCommand, OrderCommandResult> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly clock: Clock,
  ) {}

  async execute({ orderId, command, origin }: ExecuteOrderCommand): Promise<OrderCommandResult> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const now = this.clock.now();
      const order = await loadOrder(this.store, orderId);
      const decision = decideOrder(order.state, command, { now });
      if (!decision.ok) throw new CommandRefusedError(decision.refusal);
      if (decision.events.length === 0) {
        return { state: order.state, revision: order.revision, position: order.lastPosition, appended: false };
      }
      try {
        const appended = await appendToOrder(this.store, orderId, order, toNewEvents(decision.events, origin, now));
        return { state: appended.state, revision: appended.revision, position: appended.lastPosition, appended: true };
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
      }
    }
    throw new ConcurrentWriteError(orderStream(orderId), MAX_ATTEMPTS);
  }
}
