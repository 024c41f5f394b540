import type { Compilable, Kysely } from 'kysely';
import { evolveCase, initialCaseState, type AfterSalesCase, type CaseState, type OrderSnapshot, type ReturnRequested } from '@aftersales/domain';
import type { StoredEvent } from '@aftersales/event-store';
import type { CaseFactsOrderRow, CaseFactsRow, ReadModelTables } from '../store/tables';
import { byCase, CASE_EVENT_TYPES, occurredAt, recordedCaseEvent } from './case-events';
import { defineProjection } from './projection';

/** Rows per INSERT: 29 columns each, under SQLite's (32,766) and PostgreSQL's (65,535) parameter limits. */
const ROWS_PER_STATEMENT = 500;
/** Ids per `IN (...)` lookup. */
const IDS_PER_LOOKUP = 500;

export const CASE_ANALYTICS = 'case_analytics';

const ORDER_STREAM_PREFIX = 'order-';

/** Who acted on an event, as its metadata records it. */
interface EventActor {
  role: string;
  id: string;
}

/** What a batch reads before it writes: the facts of the cases it touches and the orders their requests name. */
export interface CaseAnalyticsLoaded {
  facts: Map<string, CaseFactsRow>;
  orders: Map<string, CaseFactsOrderRow>;
}

/**
 * `GET /v1/analytics/summary` and `/abuse`: one row per case with the facts
 * analysts group and aggregate (DOMAIN.md, "What analysts need"), and the
 * orders (from `OrderRegistered`) for payment accounts and what buyers paid.
 *
 * Product, category and supplier are the case's first line's: a case counts
 * once in every grouping, so the groups of one `groupBy` add up to all cases.
 * Money and status come from the case folded by the domain's `evolveCase`;
 * the rest (who acted, what the clock decided, first response) from the
 * events themselves, in stream order.
 */
export const caseAnalyticsProjection = defineProjection<CaseAnalyticsLoaded>({
  name: CASE_ANALYTICS,
  version: 1,
  eventTypes: [...CASE_EVENT_TYPES, 'OrderRegistered'],
  tables: ['rm_case_facts', 'rm_case_facts_orders'],

  createTables: (db) => [
    db.schema
      .createTable('rm_case_facts')
      .addColumn('case_id', 'text', (c) => c.primaryKey())
      .addColumn('order_id', 'text', (c) => c.notNull())
      .addColumn('buyer_id', 'text', (c) => c.notNull())
      .addColumn('payment_account', 'text')
      .addColumn('merchant_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('department', 'text', (c) => c.notNull())
      .addColumn('product_id', 'text', (c) => c.notNull())
      .addColumn('category', 'text', (c) => c.notNull())
      .addColumn('supplier_id', 'text', (c) => c.notNull())
      .addColumn('requested_at', 'text', (c) => c.notNull())
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('agent_id', 'text')
      .addColumn('compensated_by', 'text')
      .addColumn('refunded', 'bigint', (c) => c.notNull())
      .addColumn('compensated', 'bigint', (c) => c.notNull())
      .addColumn('auto_approved', 'integer', (c) => c.notNull())
      .addColumn('deadline_decided', 'integer', (c) => c.notNull())
      .addColumn('express_refund', 'integer', (c) => c.notNull())
      .addColumn('express_disputed', 'integer', (c) => c.notNull())
      .addColumn('returned', 'integer', (c) => c.notNull())
      .addColumn('first_response_seconds', 'bigint')
      .addColumn('resolution_seconds', 'bigint')
      .addColumn('rating', 'integer')
      .addColumn('nps', 'integer')
      .addColumn('revision', 'integer', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull()),
    db.schema
      .createTable('rm_case_facts_orders')
      .addColumn('order_id', 'text', (c) => c.primaryKey())
      .addColumn('buyer_id', 'text', (c) => c.notNull())
      .addColumn('payment_account', 'text', (c) => c.notNull())
      .addColumn('paid_amount', 'bigint', (c) => c.notNull()),
  ],

  indexes: (db) => [
    // The summary reads a time range; the abuse report aggregates by buyer and by payment account.
    db.schema.createIndex('rm_case_facts_requested').on('rm_case_facts').columns(['requested_at']),
    db.schema.createIndex('rm_case_facts_buyer').on('rm_case_facts').columns(['buyer_id']),
    db.schema.createIndex('rm_case_facts_account').on('rm_case_facts').columns(['payment_account']),
    db.schema.createIndex('rm_case_facts_orders_buyer').on('rm_case_facts_orders').columns(['buyer_id']),
    db.schema.createIndex('rm_case_facts_orders_account').on('rm_case_facts_orders').columns(['payment_account']),
  ],

  async load(db, events) {
    const cases = byCase(events);
    const facts = new Map<string, CaseFactsRow>();
    for (const chunk of chunks([...cases.keys()])) {
      const rows = await db.selectFrom('rm_case_facts').selectAll().where('case_id', 'in', chunk).execute();
      for (const row of rows) facts.set(row.case_id, row);
    }
    const orderIds = new Set<string>();
    for (const caseEvents of cases.values()) {
      const request = caseEvents.find((e) => e.type === 'ReturnRequested');
      if (request) orderIds.add((request.data as ReturnRequested['data']).orderId);
    }
    const orders = new Map<string, CaseFactsOrderRow>();
    for (const chunk of chunks([...orderIds])) {
      const rows = await db.selectFrom('rm_case_facts_orders').selectAll().where('order_id', 'in', chunk).execute();
      for (const row of rows) orders.set(row.order_id, row);
    }
    return { facts, orders };
  },

  write(db, events, loaded) {
    const registered = registeredOrders(events);
    const orders = new Map([...loaded.orders, ...registered]);
    const rows: CaseFactsRow[] = [];
    for (const [caseId, caseEvents] of byCase(events)) {
      const before = loaded.facts.get(caseId);
      const after = foldFacts(before, caseEvents, orders);
      if (after !== before && after !== undefined) rows.push(after);
    }
    const statements: Compilable[] = [];
    if (registered.size > 0) {
      // An order's snapshot never changes (a different one is refused): the first one stays.
      statements.push(db.insertInto('rm_case_facts_orders').values([...registered.values()]).onConflict((oc) => oc.column('order_id').doNothing()));
    }
    return [...statements, ...upserts(db, rows)];
  },
});

/** The orders the batch registers, by id (the first snapshot of each). */
function registeredOrders(events: readonly StoredEvent[]): Map<string, CaseFactsOrderRow> {
  const orders = new Map<string, CaseFactsOrderRow>();
  for (const event of events) {
    if (event.type !== 'OrderRegistered' || !event.streamName.startsWith(ORDER_STREAM_PREFIX)) continue;
    const order = event.data as unknown as OrderSnapshot;
    const orderId = event.streamName.slice(ORDER_STREAM_PREFIX.length);
    if (!orders.has(orderId)) {
      orders.set(orderId, { order_id: orderId, buyer_id: order.buyerId, payment_account: order.paymentAccount, paid_amount: order.paidAmount });
    }
  }
  return orders;
}

/**
 * Folds one case's events onto its facts row (none yet: the request opens
 * it). Events at or below the row's revision were applied already.
 */
export function foldFacts(row: CaseFactsRow | undefined, events: readonly StoredEvent[], orders: ReadonlyMap<string, CaseFactsOrderRow>): CaseFactsRow | undefined {
  let facts = row;
  let state: CaseState = row ? (JSON.parse(row.state) as CaseState) : initialCaseState;
  for (const event of events) {
    if (state.status !== 'none' && event.revision <= state.revision) continue;
    const before = state;
    state = evolveCase(state, recordedCaseEvent(event));
    if (state.status === 'none') continue;
    facts = applyEvent(facts ?? openFacts(state, orders), before, state, event);
  }
  return facts;
}

function openFacts(c: AfterSalesCase, orders: ReadonlyMap<string, CaseFactsOrderRow>): CaseFactsRow {
  const first = c.lines[0];
  return {
    case_id: c.caseId,
    order_id: c.orderId,
    buyer_id: c.buyerId,
    payment_account: orders.get(c.orderId)?.payment_account ?? null,
    merchant_id: c.merchantId,
    kind: c.kind,
    reason: c.reason,
    department: c.department,
    product_id: first?.productId ?? '',
    category: first?.category ?? '',
    supplier_id: first?.supplierId ?? '',
    requested_at: c.requestedAt,
    day: c.requestedAt.slice(0, 10),
    agent_id: null,
    compensated_by: null,
    refunded: 0,
    compensated: 0,
    auto_approved: 0,
    deadline_decided: 0,
    express_refund: 0,
    express_disputed: 0,
    returned: 0,
    first_response_seconds: null,
    resolution_seconds: null,
    rating: null,
    nps: null,
    revision: c.revision,
    state: '',
  };
}

/** Decisions that answer a request (first response), when someone other than the buyer makes them. */
const DECISIONS = new Set([
  'AutoReviewApproved',
  'MerchantAgreed',
  'MerchantRejected',
  'MerchantCounterOffered',
  'ArbitrationRuled',
  'CompensationGranted',
  'CaseEscalated',
  'CaseCompleted',
  'CaseClosed',
]);

const RETURN_MOVED = new Set(['ReturnShipped', 'ReturnCollected', 'ReturnDelivered']);

function applyEvent(facts: CaseFactsRow, before: CaseState, after: AfterSalesCase, event: StoredEvent): CaseFactsRow {
  const actor = actorOf(event);
  const at = occurredAt(event);
  const next: CaseFactsRow = {
    ...facts,
    refunded: after.refunded,
    compensated: after.compensated,
    rating: after.rating?.score ?? null,
    nps: after.rating?.nps ?? null,
    revision: after.revision,
    state: JSON.stringify(after),
  };
  const data = event.data as Record<string, unknown>;
  switch (event.type) {
    case 'CaseClaimed':
    case 'CaseAssigned':
    case 'CaseTransferred':
      // The compensating agent, once there is one, is who acted; until then the last holder.
      if (facts.compensated_by === null) next.agent_id = data.agentId as string;
      break;
    case 'CompensationGranted':
      if (actor?.role === 'agent') next.agent_id = next.compensated_by = actor.id;
      break;
    case 'ExpressRefundGranted':
      next.express_refund = 1;
      break;
    case 'ReturnInspectionFailed':
    case 'CaseEscalated':
      if (facts.express_refund === 1) next.express_disputed = 1;
      break;
  }
  if (event.type === 'AutoReviewApproved' || (event.type === 'MerchantAgreed' && data.auto === true)) next.auto_approved = 1;
  if (decidedByDeadline(event, before, actor)) next.deadline_decided = 1;
  if (RETURN_MOVED.has(event.type)) next.returned = 1;
  if (next.first_response_seconds === null && DECISIONS.has(event.type) && actor !== undefined && actor.role !== 'buyer') {
    next.first_response_seconds = secondsBetween(facts.requested_at, at);
  }
  if ((event.type === 'CaseCompleted' || event.type === 'CaseClosed') && next.resolution_seconds === null) {
    next.resolution_seconds = secondsBetween(facts.requested_at, at);
  }
  return next;
}

/**
 * A step the clock took instead of a person (DOMAIN.md deadlines): the
 * merchant's silence taken as agreement, a lapsed offer, a parcel taken as
 * delivered, a receipt taken as passed, a case closed or completed (or
 * escalated for a missed shipment) by the system.
 */
function decidedByDeadline(event: StoredEvent, before: CaseState, actor: EventActor | undefined): boolean {
  const data = event.data as Record<string, unknown>;
  const bySystem = actor?.role === 'system';
  switch (event.type) {
    case 'MerchantAgreed':
      return data.auto === true;
    case 'OfferLapsed':
      return true;
    case 'ReturnDelivered':
      return data.assumed === true;
    case 'ReturnReceived':
      return data.auto === true;
    case 'CaseClosed':
    case 'CaseEscalated':
      return bySystem;
    case 'CaseCompleted':
      return bySystem && before.status === 'replacement_in_transit';
    default:
      return false;
  }
}

function actorOf(event: StoredEvent): EventActor | undefined {
  const actor = event.metadata.actor as EventActor | undefined;
  return actor && typeof actor.role === 'string' && typeof actor.id === 'string' ? actor : undefined;
}

function secondsBetween(from: string, to: string): number {
  return Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += IDS_PER_LOOKUP) out.push(items.slice(i, i + IDS_PER_LOOKUP));
  return out;
}

const UPDATED_COLUMNS = [
  'agent_id',
  'compensated_by',
  'payment_account',
  'refunded',
  'compensated',
  'auto_approved',
  'deadline_decided',
  'express_refund',
  'express_disputed',
  'returned',
  'first_response_seconds',
  'resolution_seconds',
  'rating',
  'nps',
  'revision',
  'state',
] as const satisfies ReadonlyArray<keyof CaseFactsRow>;

function upserts(db: Kysely<ReadModelTables>, rows: CaseFactsRow[]): Compilable[] {
  const statements: Compilable[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    statements.push(
      db
        .insertInto('rm_case_facts')
        .values(rows.slice(i, i + ROWS_PER_STATEMENT))
        .onConflict((oc) =>
          // What a request fixed (order, merchant, reason, first line, time) never changes; the rest follows the events.
          oc.column('case_id').doUpdateSet((eb) => {
            const set: Record<string, unknown> = {};
            for (const column of UPDATED_COLUMNS) set[column] = eb.ref(`excluded.${column}`);
            return set as never;
          }),
        ),
    );
  }
  return statements;
}
