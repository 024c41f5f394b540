import type { Kysely } from 'kysely';
import { initialCaseState, type AfterSalesCase, type CaseState } from '@aftersales/domain';
import { lookupChunks, upsertRows, type UpsertSpec } from '../store/row-statements';
import type { CaseListRow, ReadModelTables } from '../store/tables';
import { byCase, CASE_EVENT_TYPES, foldCaseEvents, knownCaseIds, nextDeadline } from './case-events';
import { defineProjection } from './projection';

export const CASE_LIST = 'case_list';

/** What a request fixes: the case's identity and the keys its list is scoped and sorted by. */
const FIXED_COLUMNS = ['case_id', 'order_id', 'buyer_id', 'merchant_id', 'business_line', 'kind', 'reason', 'currency', 'requested_at'] as const satisfies ReadonlyArray<keyof CaseListRow>;

const UPDATED_COLUMNS = [
  'status',
  'requested_amount',
  'refunded',
  'priority',
  'assignee',
  'updated_at',
  'next_deadline_name',
  'next_deadline_at',
  'revision',
  'state',
] as const satisfies ReadonlyArray<Exclude<keyof CaseListRow, (typeof FIXED_COLUMNS)[number]>>;

/**
 * A row is a function of its case's state. Only `ReturnRequested` sets the
 * fixed columns, so a later event rewrites the others alone, and leaves the
 * indexes on the fixed ones (buyer, merchant, line, time) untouched.
 */
const UPSERT: UpsertSpec<'rm_case_list'> = { table: 'rm_case_list', columns: [...FIXED_COLUMNS, ...UPDATED_COLUMNS], conflict: ['case_id'], update: UPDATED_COLUMNS };

/**
 * `GET /v1/cases`: one row per case with what the list shows and filters on,
 * and the folded case itself so the next batch evolves it without reading
 * its stream. Built by the domain's own `evolveCase`, so a row says what the
 * case's stream says.
 */
export const caseListProjection = defineProjection<Map<string, CaseState>>({
  name: CASE_LIST,
  version: 2,
  eventTypes: CASE_EVENT_TYPES,
  tables: ['rm_case_list'],

  createTables: (db) => [
    db.schema
      .createTable('rm_case_list')
      .addColumn('case_id', 'text', (c) => c.primaryKey())
      .addColumn('order_id', 'text', (c) => c.notNull())
      .addColumn('buyer_id', 'text', (c) => c.notNull())
      .addColumn('merchant_id', 'text', (c) => c.notNull())
      .addColumn('business_line', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('requested_amount', 'bigint', (c) => c.notNull())
      .addColumn('refunded', 'bigint', (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('priority', 'integer', (c) => c.notNull())
      .addColumn('assignee', 'text')
      .addColumn('requested_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('next_deadline_name', 'text')
      .addColumn('next_deadline_at', 'text')
      .addColumn('revision', 'integer', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull()),
  ],

  indexes: (db) => [
    // Newest first within each scope the list is read in (API.md: buyer, merchant, business line, everything).
    db.schema.createIndex('rm_case_list_requested').on('rm_case_list').columns(['requested_at', 'case_id']),
    db.schema.createIndex('rm_case_list_buyer').on('rm_case_list').columns(['buyer_id', 'requested_at', 'case_id']),
    db.schema.createIndex('rm_case_list_merchant').on('rm_case_list').columns(['merchant_id', 'requested_at', 'case_id']),
    db.schema.createIndex('rm_case_list_line').on('rm_case_list').columns(['business_line', 'requested_at', 'case_id']),
    db.schema.createIndex('rm_case_list_status').on('rm_case_list').columns(['status', 'requested_at', 'case_id']),
    db.schema.createIndex('rm_case_list_kind').on('rm_case_list').columns(['kind', 'requested_at', 'case_id']),
    db.schema.createIndex('rm_case_list_reason').on('rm_case_list').columns(['reason', 'requested_at', 'case_id']),
    // Both together: a rare pair would otherwise walk every case of its kind.
    db.schema.createIndex('rm_case_list_kind_reason').on('rm_case_list').columns(['kind', 'reason', 'requested_at', 'case_id']),
    // deadlineBefore: the cases whose next deadline falls before a time (only running deadlines count).
    db.schema.createIndex('rm_case_list_deadline').on('rm_case_list').columns(['next_deadline_at']),
  ],

  /** The folded cases the batch's events belong to, as stored. */
  load: (db, events) => loadStates(db, knownCaseIds(events)),

  write(db, events, known) {
    const rows: CaseListRow[] = [];
    for (const [caseId, caseEvents] of byCase(events)) {
      const before = known.get(caseId) ?? initialCaseState;
      const after = foldCaseEvents(before, caseEvents);
      if (after !== before && after.status !== 'none') rows.push(caseListRow(after));
    }
    return upsertRows(db, UPSERT, rows);
  },
});

async function loadStates(db: Kysely<ReadModelTables>, caseIds: string[]): Promise<Map<string, CaseState>> {
  const states = new Map<string, CaseState>();
  for (const chunk of lookupChunks(caseIds)) {
    const rows = await db.selectFrom('rm_case_list').select(['case_id', 'state']).where('case_id', 'in', chunk).execute();
    for (const row of rows) states.set(row.case_id, JSON.parse(row.state) as CaseState);
  }
  return states;
}

export function caseListRow(c: AfterSalesCase): CaseListRow {
  const next = nextDeadline(c);
  return {
    case_id: c.caseId,
    order_id: c.orderId,
    buyer_id: c.buyerId,
    merchant_id: c.merchantId,
    business_line: c.businessLine,
    kind: c.kind,
    reason: c.reason,
    status: c.status,
    requested_amount: c.requestedAmount,
    refunded: c.refunded,
    currency: c.currency,
    priority: c.priority,
    assignee: c.assignee ?? null,
    requested_at: c.requestedAt,
    updated_at: c.updatedAt,
    next_deadline_name: next?.name ?? null,
    next_deadline_at: next?.at ?? null,
    revision: c.revision,
    state: JSON.stringify(c),
  };
}
