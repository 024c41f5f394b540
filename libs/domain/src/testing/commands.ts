import type { CaseCommand, RequestCase } from '../case/commands';
import type { Actor } from '../kinds';
import type { OrderCommand } from '../order/commands';
import { buyer, integration, system } from './fixtures';

type DataOf<T extends CaseCommand['type']> = Extract<CaseCommand, { type: T }>['data'];

/** Any case command: `act('approve', merchant)`. */
export function act<T extends CaseCommand['type']>(type: T, actor: Actor, data?: DataOf<T>): Extract<CaseCommand, { type: T }> {
  return { type, actor, data: data ?? {} } as Extract<CaseCommand, { type: T }>;
}

/** A request on order o1 with sensible defaults: one unit of L1, changed mind, return and refund. */
export function request(data: Partial<RequestCase['data']> = {}, actor: Actor = buyer): RequestCase {
  return {
    type: 'request',
    actor,
    data: {
      caseId: 'c1',
      orderId: 'o1',
      kind: 'return_and_refund',
      reason: 'changed_mind',
      lines: [{ lineId: 'L1', quantity: 1 }],
      channel: 'app',
      pickup: false,
      ...data,
    },
  };
}

export const deadline = (name: DataOf<'deadline-passed'>['name'], dueAt: string) => act('deadline-passed', system, { name, dueAt });
export const settled = (refundId: string, at: string) => act('refund-settled', integration, { refundId, at });

type OrderDataOf<T extends OrderCommand['type']> = Extract<OrderCommand, { type: T }>['data'];
export function orderAct<T extends OrderCommand['type']>(type: T, actor: Actor, data: OrderDataOf<T>): Extract<OrderCommand, { type: T }> {
  return { type, actor, data } as Extract<OrderCommand, { type: T }>;
}
