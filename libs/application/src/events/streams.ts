import {
  caseStream,
  foldCase,
  foldOrder,
  foldPolicy,
  orderStream,
  policyStream,
  type CaseState,
  type OrderEvent,
  type OrderState,
  type PolicyEvent,
  type PolicyState,
  type RecordedCaseEvent,
} from '@aftersales/domain';
import type { EventStore, StoredEvent } from '@aftersales/event-store';
import { toDomainEvent } from './metadata';

/** A stream's folded state and the revision it was read at (-1: no stream yet). */
export interface Loaded<S> {
  state: S;
  revision: number;
  events: StoredEvent[];
}

export async function loadCase(store: EventStore, caseId: string): Promise<Loaded<CaseState>> {
  const events = await store.readStream(caseStream(caseId));
  return { state: foldCase(events.map((e) => toDomainEvent<RecordedCaseEvent>(e))), revision: lastRevision(events), events };
}

export async function loadOrder(store: EventStore, orderId: string): Promise<Loaded<OrderState>> {
  const events = await store.readStream(orderStream(orderId));
  return { state: foldOrder(events.map((e) => toDomainEvent<OrderEvent>(e))), revision: lastRevision(events), events };
}

export async function loadPolicy(store: EventStore, scope: string): Promise<Loaded<PolicyState>> {
  const events = await store.readStream(policyStream(scope));
  return { state: foldPolicy(events.map((e) => toDomainEvent<PolicyEvent>(e))), revision: lastRevision(events), events };
}

const lastRevision = (events: StoredEvent[]): number => (events.length === 0 ? -1 : events[events.length - 1].revision);

/** The expected revision for an append after reading at `revision`. */
export const expectedAfter = (revision: number): 'no_stream' | number => (revision < 0 ? 'no_stream' : revision);
