import type { OrderCommand, OrderState } from '@aftersales/domain';
import type { CommandOrigin } from '../events/metadata';

/** An order-system command: register the snapshot, shipped, delivered. */
export class ExecuteOrderCommand {
  constructor(
    readonly orderId: string,
    readonly command: Extract<OrderCommand, { type: 'register' | 'mark-shipped' | 'mark-delivered' }>,
    readonly origin: CommandOrigin,
  ) {}
}

export interface OrderCommandResult {
  state: OrderState;
  revision: number;
  position: number;
  /** False when the same snapshot or shipment was already recorded. */
  appended: boolean;
}
