import { CompiledQuery, PostgresAdapter, sql, type Kysely } from 'kysely';
import { evolveCase, initialCaseState, type AfterSalesCase, type CaseState, type OrderSnapshot, type ReturnRequested } from '@aftersales/domain';
import type { StoredEvent } from '@aftersales/event-store';
import { lookupChunks, upsertRows, type UpsertSpec } from '../store/row-statements';
import type { CaseFactsDailyRow, CaseFactsOrderRow, CaseFactsRow, ReadModelTables } from '../store/tables';
import { ANALYTICS_GROUPS, contributionOf, COUNTER_COLUMNS, groupKey, rollupId, RollupTotals, sameContribution, type AnalyticsGroup } from './case-analytics-rollup';
import { byCase, CASE_EVENT_TYPES, knownCaseIds, occurredAt, recordedCaseEvent } from './case-events';
import { defineProjection } from './projection';

export const CASE_ANALYTICS = 'case_analytics';

const ORDER_STREAM_PREFIX = 'order-';

/** Who acted on an event, as its metadata records it. */
interface EventActor {
  role: string;
  id: string;
}

/** One rollup row as the batch leaves it; `cases` 0 means it goes. */
interface RollupChange {
  dimension: AnalyticsGroup;
  day: string;
  key: string;
  totals: RollupTotals;
  stored: boolean;
}

/**
 * What a batch changes, worked out before its transaction: the cases'
 * facts folded (the stored rows read first), the orders it registers, and
 * the rollup rows the changed facts move, read and added to.
 */
export interface CaseAnalyticsLoaded {
  facts: CaseFactsRow[];
  registered: CaseFactsOrderRow[];
  rollup: RollupChange[];
}

/**
 * `GET /v1/analytics/summary` and `/abuse`: one row per case with the facts
 * analysts group and aggregate (DOMAIN.md, "What analysts need"), the
 * orders (from `OrderRegistered`) for payment accounts and what buyers paid,
 * and the summary's rollup (case-analytics-rollup.ts): per day, `groupBy`
 * and key, the cases' counts, sums and duration histograms, changed with
 * the facts in the same transaction.
 *
 * Product, category and supplier are the case's first line's: a case counts
 * once in every grouping, so the groups of one `groupBy` add up to all cases.
 * Money and status come from the case folded by the domain's `evolveCase`;
 * the rest (who acted, what the clock decided, first response) from the
 * events themselves, in stream order.
 */
export const caseAnalyticsProjection = defineProjection<CaseAnalyticsLoaded>({
  name: CASE_ANALYTICS,
  // 3: rollup histograms as blobs; 4: as compact text (encodeHistogram), the rollup clustered by its key on SQLite.
  version: 4,
  eventTypes: [...CASE_EVENT_TYPES, 'OrderRegistered'],
  tables: ['rm_case_facts', 'rm_case_facts_orders', 'rm_case_facts_daily'],

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
    db.schema
      .createTable('rm_case_facts_daily')
      .addColumn('dimension', 'text', (c) => c.notNull())
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('cases', 'integer', (c) => c.notNull())
      .addColumn('refunded', 'bigint', (c) => c.notNull())
      .addColumn('compensated', 'bigint', (c) => c.notNull())
      .addColumn('auto_approved', 'integer', (c) => c.notNull())
      .addColumn('deadline_decided', 'integer', (c) => c.notNull())
      .addColumn('express_refunds', 'integer', (c) => c.notNull())
      .addColumn('express_disputed', 'integer', (c) => c.notNull())
      .addColumn('rating_sum', 'bigint', (c) => c.notNull())
      .addColumn('rating_count', 'integer', (c) => c.notNull())
      .addColumn('nps_count', 'integer', (c) => c.notNull())
      .addColumn('promoters', 'integer', (c) => c.notNull())
      .addColumn('detractors', 'integer', (c) => c.notNull())
      .addColumn('first_response', 'text', (c) => c.notNull())
      .addColumn('resolution', 'text', (c) => c.notNull())
      // The summary reads one dimension's days in a range.
      .addPrimaryKeyConstraint('rm_case_facts_daily_pk', ['dimension', 'day', 'key'])
      // On SQLite the rows lie in that key's order (a range is read from neighbouring pages) and an upsert changes one tree, not a table and its index.
      .$call((table) => (db.getExecutor().adapter instanceof PostgresAdapter ? table : table.modifyEnd(sql`without rowid`))),
  ],

  indexes: (db) => [
    // The summary reads the cases of a range's partial days; the abuse report aggregates by buyer and by payment account.
    db.schema.createIndex('rm_case_facts_requested').on('rm_case_facts').columns(['requested_at']),
    db.schema.createIndex('rm_case_facts_buyer').on('rm_case_facts').columns(['buyer_id']),
    db.schema.createIndex('rm_case_facts_account').on('rm_case_facts').columns(['payment_account']),
    db.schema.createIndex('rm_case_facts_orders_buyer').on('rm_case_facts_orders').columns(['buyer_id']),
    db.schema.createIndex('rm_case_facts_orders_account').on('rm_case_facts_orders').columns(['payment_account']),
  ],

  async load(db, events) {
    const cases = byCase(events);
    const stored = new Map<string, CaseFactsRow>();
    for (const chunk of lookupChunks(knownCaseIds(events))) {
      const rows = await db.selectFrom('rm_case_facts').selectAll().where('case_id', 'in', chunk).execute();
      for (const row of rows) stored.set(row.case_id, row);
    }
    const registered = registeredOrders(events);
    const orderIds = new Set<string>();
    for (const caseEvents of cases.values()) {
      const request = caseEvents.find((e) => e.type === 'ReturnRequested');
      const orderId = request ? (request.data as ReturnRequested['data']).orderId : undefined;
      if (orderId !== undefined && !registered.has(orderId)) orderIds.add(orderId);
    }
    const orders = new Map(registered);
    for (const chunk of lookupChunks([...orderIds])) {
      const rows = await db.selectFrom('rm_case_facts_orders').selectAll().where('order_id', 'in', chunk).execute();
      for (const row of rows) orders.set(row.order_id, row);
    }

    const facts: CaseFactsRow[] = [];
    const deltas = new Map<string, RollupChange>();
    const move = (row: CaseFactsRow, sign: 1 | -1) => {
      const share = contributionOf(row);
      for (const dimension of ANALYTICS_GROUPS) {
        const key = groupKey(row, dimension);
        const id = rollupId(dimension, row.day, key);
        let change = deltas.get(id);
        if (!change) deltas.set(id, (change = { dimension, day: row.day, key, totals: new RollupTotals(), stored: false }));
        change.totals.add(share, sign);
      }
    };
    for (const [caseId, caseEvents] of cases) {
      const before = stored.get(caseId);
      const after = foldFacts(before, caseEvents, orders);
      if (after === before || after === undefined) continue;
      facts.push(after);
      if (before && sameContribution(before, after)) continue;
      if (before) move(before, -1);
      move(after, 1);
    }
    const rollup = [...deltas.values()].filter((change) => !change.totals.isEmpty());
    for (const chunk of lookupChunks(rollup)) {
      const { rows } = await db.executeQuery<CaseFactsDailyRow>(selectDaily(db, chunk));
      for (const row of rows) {
        const change = deltas.get(rollupId(row.dimension, row.day, row.key));
        // Each stored row added once (a lookup list repeats its last entry as padding).
        if (!change || change.stored) continue;
        change.totals.addRow(row);
        change.stored = true;
      }
    }
    return { facts, registered: [...registered.values()], rollup };
  },

  write(db, _events, loaded) {
    const statements: CompiledQuery[] = [
      ...upsertRows(db, INSERT_ORDER, loaded.registered),
      ...upsertRows(db, UPSERT_FACTS, loaded.facts),
      ...upsertRows(
        db,
        UPSERT_DAILY,
        loaded.rollup.filter((c) => c.totals.cases !== 0).map((c) => c.totals.toRow(c.dimension, c.day, c.key)),
      ),
    ];
    for (const gone of loaded.rollup) {
      if (gone.totals.cases === 0 && gone.stored) statements.push(deleteDaily(db, gone));
    }
    return statements;
  },
});

const dailyLookups = new WeakMap<Kysely<ReadModelTables>, Map<number, string>>();

/**
 * The stored rollup rows of `chunk` (a lookupChunks list). The SQL is built
 * by Kysely once per database and list length, then reused with each
 * batch's values: a batch looks up hundreds of rows, and building a
 * statement of that many tuples each batch showed in the rebuild's profile.
 */
function selectDaily(db: Kysely<ReadModelTables>, chunk: ReadonlyArray<Pick<RollupChange, 'dimension' | 'day' | 'key'>>): CompiledQuery<CaseFactsDailyRow> {
  let bySize = dailyLookups.get(db);
  if (!bySize) dailyLookups.set(db, (bySize = new Map()));
  let text = bySize.get(chunk.length);
  if (text === undefined) {
    text = db
      .selectFrom('rm_case_facts_daily')
      .selectAll()
      .where(({ eb, refTuple, tuple }) => eb(refTuple('dimension', 'day', 'key'), 'in', chunk.map((c) => tuple(c.dimension, c.day, c.key))))
      .compile().sql;
    bySize.set(chunk.length, text);
  }
  const parameters: string[] = [];
  for (const c of chunk) parameters.push(c.dimension, c.day, c.key);
  return CompiledQuery.raw(text, parameters) as CompiledQuery<CaseFactsDailyRow>;
}

function deleteDaily(db: Kysely<ReadModelTables>, row: Pick<CaseFactsDailyRow, 'dimension' | 'day' | 'key'>): CompiledQuery {
  return db.deleteFrom('rm_case_facts_daily').where('dimension', '=', row.dimension).where('day', '=', row.day).where('key', '=', row.key).compile();
}

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
  // One copy of the row per case, changed in place event by event.
  let facts: CaseFactsRow | undefined;
  let state: CaseState = row ? (JSON.parse(row.state) as CaseState) : initialCaseState;
  for (const event of events) {
    if (state.status !== 'none' && event.revision <= state.revision) continue;
    const before = state;
    state = evolveCase(state, recordedCaseEvent(event));
    if (state.status === 'none') continue;
    facts ??= row ? { ...row } : openFacts(state, orders);
    applyEvent(facts, before, state, event);
  }
  if (facts === undefined) return row;
  // The folded case, kept for the next batch: written once per case, not per event.
  facts.state = JSON.stringify(state);
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

function applyEvent(next: CaseFactsRow, before: CaseState, after: AfterSalesCase, event: StoredEvent): void {
  const actor = actorOf(event);
  const at = occurredAt(event);
  next.refunded = after.refunded;
  next.compensated = after.compensated;
  next.rating = after.rating?.score ?? null;
  next.nps = after.rating?.nps ?? null;
  next.revision = after.revision;
  const data = event.data as Record<string, unknown>;
  switch (event.type) {
    case 'CaseClaimed':
    case 'CaseAssigned':
    case 'CaseTransferred':
      // The compensating agent, once there is one, is who acted; until then the last holder.
      if (next.compensated_by === null) next.agent_id = data.agentId as string;
      break;
    case 'CompensationGranted':
      if (actor?.role === 'agent') next.agent_id = next.compensated_by = actor.id;
      break;
    case 'ExpressRefundGranted':
      next.express_refund = 1;
      break;
    case 'ReturnInspectionFailed':
    case 'CaseEscalated':
      if (next.express_refund === 1) next.express_disputed = 1;
      break;
  }
  if (event.type === 'AutoReviewApproved' || (event.type === 'MerchantAgreed' && data.auto === true)) next.auto_approved = 1;
  if (decidedByDeadline(event, before, actor)) next.deadline_decided = 1;
  if (RETURN_MOVED.has(event.type)) next.returned = 1;
  if (next.first_response_seconds === null && DECISIONS.has(event.type) && actor !== undefined && actor.role !== 'buyer') {
    next.first_response_seconds = secondsBetween(next.requested_at, at);
  }
  if ((event.type === 'CaseCompleted' || event.type === 'CaseClosed') && next.resolution_seconds === null) {
    next.resolution_seconds = secondsBetween(next.requested_at, at);
  }
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

/** What a request fixed (order, merchant, reason, first line, time) never changes; the rest follows the events. */
const UPSERT_FACTS: UpsertSpec<'rm_case_facts'> = {
  table: 'rm_case_facts',
  columns: [
    'case_id',
    'order_id',
    'buyer_id',
    'merchant_id',
    'kind',
    'reason',
    'department',
    'product_id',
    'category',
    'supplier_id',
    'requested_at',
    'day',
    ...UPDATED_COLUMNS,
  ],
  conflict: ['case_id'],
  update: UPDATED_COLUMNS,
};

/** An order's snapshot never changes (a different one is refused): the first one stays. */
const INSERT_ORDER: UpsertSpec<'rm_case_facts_orders'> = {
  table: 'rm_case_facts_orders',
  columns: ['order_id', 'buyer_id', 'payment_account', 'paid_amount'],
  conflict: ['order_id'],
  update: 'nothing',
};

/** What an upsert of a daily rollup row writes: its counters, then its two duration histograms. */
const DAILY_TOTALS = [...COUNTER_COLUMNS, 'first_response', 'resolution'] as const satisfies ReadonlyArray<keyof CaseFactsDailyRow>;

/** A rollup row as the batch computed it (stored row plus the batch's changes). */
const UPSERT_DAILY: UpsertSpec<'rm_case_facts_daily'> = {
  table: 'rm_case_facts_daily',
  columns: ['dimension', 'day', 'key', ...DAILY_TOTALS],
  conflict: ['dimension', 'day', 'key'],
  update: DAILY_TOTALS,
};
