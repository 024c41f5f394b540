import {
  buyerStream,
  evolveBuyerFlag,
  initialBuyerFlagState,
  type BuyerFlagState,
  type RecordedBuyerEvent,
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
import type { EventStore, NewEvent } from '@aftersales/event-store';
import { newDomainEvent, toDomainEvent } from './metadata';

/** A stream's folded state and the revision it was read at (-1: no stream yet). */
export interface Loaded<S> {
  state: S;
  revision: number;
  /** Global position of the stream's last event (0: no stream yet). */
  lastPosition: number;
  /**
   * The Idempotency-Keys (`<role>:<id>:<key>`) of the stream's latest appends,
   * newest last: a keyed request whose events are here was recorded,
   * whatever became of its idempotency record.
   */
  recentKeys?: readonly string[];
}

/** How many appends' keys a folded stream remembers. */
const RECENT_KEYS = 16;

/** The key a request's events carry in their metadata, with the caller it belongs to. */
export function requestKeyOf(metadata: Record<string, unknown> | undefined): string | undefined {
  const key = metadata?.idempotencyKey;
  const actor = metadata?.actor as { role?: string; id?: string } | undefined;
  return typeof key === 'string' && actor ? `${actor.role}:${actor.id}:${key}` : undefined;
}

function withKeys(known: readonly string[] | undefined, metadata: ReadonlyArray<Record<string, unknown> | undefined>): readonly string[] | undefined {
  let keys = known;
  for (const m of metadata) {
    const key = requestKeyOf(m);
    if (key && keys?.[keys.length - 1] !== key) keys = [...(keys ?? []), key].slice(-RECENT_KEYS);
  }
  return keys;
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

/** A kind of stream: how its name is made, where its fold starts and how one event moves it. */
interface StreamKind<S> {
  name(id: string): string;
  initial: S;
  evolve(state: S, event: DomainEvent): S;
}

/** What a fold sees of an event, whether it was read from the store or has just been appended. */
type DomainEvent = ReturnType<typeof toDomainEvent>;

async function load<S>(store: EventStore, kind: StreamKind<S>, id: string): Promise<Loaded<S>> {
  const stream = kind.name(id);
  const folded = foldedFor(store);
  const known = folded.get<S>(stream) ?? { state: kind.initial, revision: -1, lastPosition: 0 };
  const newer = await store.readStream(stream, { fromRevision: known.revision + 1 });
  if (newer.length === 0) return known;
  let state = known.state;
  for (const event of newer) state = kind.evolve(state, toDomainEvent(event));
  const last = newer[newer.length - 1];
  const loaded: Loaded<S> = { state, revision: last.revision, lastPosition: last.position, recentKeys: withKeys(known.recentKeys, newer.map((e) => e.metadata)) };
  folded.set(stream, loaded);
  return loaded;
}

/**
 * Appends events decided against `loaded` (expected revision: the one it
 * was read at) and returns the stream as it now is. The new state is folded
 * from the appended events by the same `evolve` a load uses (unless the
 * caller has folded them already: `folded`) and kept in the cache, so the
 * next command on the stream reads nothing. A conflict throws and caches
 * nothing.
 */
async function append<S>(store: EventStore, kind: StreamKind<S>, id: string, loaded: Loaded<S>, events: NewEvent[], folded?: S): Promise<Loaded<S>> {
  const stream = kind.name(id);
  const appended = await store.append(stream, events, { expectedRevision: expectedAfter(loaded.revision) });
  let state = folded ?? loaded.state;
  if (folded === undefined) for (const event of events) state = kind.evolve(state, newDomainEvent(event));
  const next: Loaded<S> = { state, revision: appended.nextExpectedRevision, lastPosition: appended.position, recentKeys: withKeys(loaded.recentKeys, events.map((e) => e.metadata)) };
  foldedFor(store).set(stream, next);
  return next;
}

const CASES: StreamKind<CaseState> = { name: caseStream, initial: initialCaseState, evolve: (state, e) => evolveCase(state, e as RecordedCaseEvent) };
const ORDERS: StreamKind<OrderState> = { name: orderStream, initial: initialOrderState, evolve: (state, e) => evolveOrder(state, e as OrderEvent) };
const POLICIES: StreamKind<PolicyState> = { name: policyStream, initial: initialPolicyState, evolve: (state, e) => evolvePolicy(state, e as PolicyEvent) };

export const loadCase = (store: EventStore, caseId: string): Promise<Loaded<CaseState>> => load(store, CASES, caseId);
export const loadOrder = (store: EventStore, orderId: string): Promise<Loaded<OrderState>> => load(store, ORDERS, orderId);
export const loadPolicy = (store: EventStore, scope: string): Promise<Loaded<PolicyState>> => load(store, POLICIES, scope);

const BUYERS: StreamKind<BuyerFlagState> = { name: buyerStream, initial: initialBuyerFlagState, evolve: (state, e) => evolveBuyerFlag(state, e as RecordedBuyerEvent) };

export const loadBuyer = (store: EventStore, buyerId: string): Promise<Loaded<BuyerFlagState>> => load(store, BUYERS, buyerId);
export const appendToBuyer = (store: EventStore, buyerId: string, loaded: Loaded<BuyerFlagState>, events: NewEvent[]): Promise<Loaded<BuyerFlagState>> =>
  append(store, BUYERS, buyerId, loaded, events);

/** Whether the buyer of a case (before it opens: of its order) is flagged now, read from the buyer's stream. */
export async function buyerFlaggedFor(store: EventStore, kase: CaseState, order: OrderState): Promise<boolean> {
  const buyerId = kase.status !== 'none' ? kase.buyerId : order.status !== 'none' ? order.buyerId : undefined;
  return buyerId !== undefined && (await loadBuyer(store, buyerId)).state.flagged;
}

/** `folded`: the state the decision's events lead to, folded with the occurredAt they are appended with. */
export const appendToCase = (store: EventStore, caseId: string, loaded: Loaded<CaseState>, events: NewEvent[], folded?: CaseState): Promise<Loaded<CaseState>> =>
  append(store, CASES, caseId, loaded, events, folded);
export const appendToOrder = (store: EventStore, orderId: string, loaded: Loaded<OrderState>, events: NewEvent[]): Promise<Loaded<OrderState>> =>
  append(store, ORDERS, orderId, loaded, events);
export const appendToPolicy = (store: EventStore, scope: string, loaded: Loaded<PolicyState>, events: NewEvent[]): Promise<Loaded<PolicyState>> =>
  append(store, POLICIES, scope, loaded, events);

/** The expected revision for an append after reading at `revision`. */
const expectedAfter = (revision: number): 'no_stream' | number => (revision < 0 ? 'no_stream' : revision);
