import {
  caseStream,
  evolveCase,
  evolveOrder,
  evolvePolicy,
  initialCaseState,
  initialOrderState,
  initialPolicyState,
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
  /** Global position of the stream's last event (0: no stream yet). */
  lastPosition: number;
}

/**
 * Folded states by stream, per store. Events are immutable and streams only
 * grow, so a cached state at revision r plus the events after r is exactly
 * the fold of the whole stream: a load reads only what is new. Bounded, and
 * dropped whole when full (cheap, and correct: a miss only costs a full read).
 */
class FoldedStreams {
  private readonly entries = new Map<string, Loaded<unknown>>();

  constructor(private readonly capacity: number) {}

  get<S>(stream: string): Loaded<S> | undefined {
    return this.entries.get(stream) as Loaded<S> | undefined;
  }

  set<S>(stream: string, loaded: Loaded<S>): void {
    if (this.entries.size >= this.capacity && !this.entries.has(stream)) this.entries.clear();
    this.entries.set(stream, loaded);
  }
}

const FOLDED_STREAMS_PER_STORE = 50_000;
const foldedByStore = new WeakMap<EventStore, FoldedStreams>();

function foldedFor(store: EventStore): FoldedStreams {
  let folded = foldedByStore.get(store);
  if (!folded) {
    folded = new FoldedStreams(FOLDED_STREAMS_PER_STORE);
    foldedByStore.set(store, folded);
  }
  return folded;
}

async function load<S>(store: EventStore, stream: string, initial: S, evolve: (state: S, event: StoredEvent) => S): Promise<Loaded<S>> {
  const folded = foldedFor(store);
  const known = folded.get<S>(stream) ?? { state: initial, revision: -1, lastPosition: 0 };
  const newer = await store.readStream(stream, { fromRevision: known.revision + 1 });
  if (newer.length === 0) return known;
  const last = newer[newer.length - 1];
  const loaded: Loaded<S> = { state: newer.reduce(evolve, known.state), revision: last.revision, lastPosition: last.position };
  folded.set(stream, loaded);
  return loaded;
}

export const loadCase = (store: EventStore, caseId: string): Promise<Loaded<CaseState>> =>
  load(store, caseStream(caseId), initialCaseState, (state, e) => evolveCase(state, toDomainEvent<RecordedCaseEvent>(e)));

export const loadOrder = (store: EventStore, orderId: string): Promise<Loaded<OrderState>> =>
  load(store, orderStream(orderId), initialOrderState, (state, e) => evolveOrder(state, toDomainEvent<OrderEvent>(e)));

export const loadPolicy = (store: EventStore, scope: string): Promise<Loaded<PolicyState>> =>
  load(store, policyStream(scope), initialPolicyState, (state, e) => evolvePolicy(state, toDomainEvent<PolicyEvent>(e)));

/** The expected revision for an append after reading at `revision`. */
export const expectedAfter = (revision: number): 'no_stream' | number => (revision < 0 ? 'no_stream' : revision);
