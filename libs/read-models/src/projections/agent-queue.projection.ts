import { inAgentPool, inHolderQueue, initialCaseState, type AfterSalesCase, type CaseState } from '@aftersales/domain';
import type { StoredEvent } from '@aftersales/event-store';
import { lookupChunks, upsertRows, type UpsertSpec } from '../store/row-statements';
import type { AgentQueueRow } from '../store/tables';
import { byCase, CASE_EVENT_TYPES, foldCaseEvents, knownCaseIds, nextDeadline } from './case-events';
import { defineProjection } from './projection';

export const AGENT_QUEUE = 'agent_queue';

const BUYER_STREAM_PREFIX = 'buyer-';
const BUYER_EVENT_TYPES = ['BuyerFlagged', 'BuyerUnflagged'] as const;

/** What a request fixes: the case's identity and line, and when it was asked. */
const FIXED_COLUMNS = ['case_id', 'order_id', 'buyer_id', 'business_line', 'kind', 'reason', 'requested_at'] as const satisfies ReadonlyArray<keyof AgentQueueRow>;

const UPDATED_COLUMNS = [
  'status',
  'priority',
  'assignee',
  'open',
  'in_pool',
  'waiting_since',
  'next_deadline_name',
  'next_deadline_at',
  'revision',
  'state',
] as const satisfies ReadonlyArray<Exclude<keyof AgentQueueRow, (typeof FIXED_COLUMNS)[number]>>;

/**
 * A row is a function of its case's state and its buyer's flag, nothing
 * else. Only `ReturnRequested` sets the fixed columns, so later events
 * rewrite the others alone.
 */
const UPSERT: UpsertSpec<'rm_agent_queue'> = { table: 'rm_agent_queue', columns: [...FIXED_COLUMNS, ...UPDATED_COLUMNS], conflict: ['case_id'], update: UPDATED_COLUMNS };
const UPSERT_BUYER: UpsertSpec<'rm_agent_queue_buyers'> = { table: 'rm_agent_queue_buyers', columns: ['buyer_id', 'flagged'], conflict: ['buyer_id'], update: ['flagged'] };

/** What a batch reads before it writes: the folded cases it touches and the flags of their buyers. */
export interface AgentQueueLoaded {
  cases: Map<string, CaseState>;
  flags: Map<string, boolean>;
}

/**
 * `GET /v1/queues/pool` and `/mine`: one row per case with its line,
 * priority, holder and whether it waits in the pool. The pool is the
 * domain's own rule (`inAgentPool`) over the case folded by `evolveCase` and
 * the buyer's flag, which this projection follows on buyer streams: a flag
 * set or cleared moves every open case of that buyer in or out of the pool.
 */
export const agentQueueProjection = defineProjection<AgentQueueLoaded>({
  name: AGENT_QUEUE,
  // 2: a refund given up keeps an ended case in the pool, or in its holder's queue.
  version: 2,
  eventTypes: [...CASE_EVENT_TYPES, ...BUYER_EVENT_TYPES],
  tables: ['rm_agent_queue', 'rm_agent_queue_buyers'],

  createTables: (db) => [
    db.schema
      .createTable('rm_agent_queue')
      .addColumn('case_id', 'text', (c) => c.primaryKey())
      .addColumn('order_id', 'text', (c) => c.notNull())
      .addColumn('buyer_id', 'text', (c) => c.notNull())
      .addColumn('business_line', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('priority', 'integer', (c) => c.notNull())
      .addColumn('assignee', 'text')
      .addColumn('open', 'integer', (c) => c.notNull())
      .addColumn('in_pool', 'integer', (c) => c.notNull())
      .addColumn('requested_at', 'text', (c) => c.notNull())
      .addColumn('waiting_since', 'text', (c) => c.notNull())
      .addColumn('next_deadline_name', 'text')
      .addColumn('next_deadline_at', 'text')
      .addColumn('revision', 'integer', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull()),
    db.schema
      .createTable('rm_agent_queue_buyers')
      .addColumn('buyer_id', 'text', (c) => c.primaryKey())
      .addColumn('flagged', 'integer', (c) => c.notNull()),
  ],

  indexes: (db) => [
    // The pool of a line and the whole pool, in queue order (priority desc, oldest first).
    db.schema.createIndex('rm_agent_queue_pool').on('rm_agent_queue').columns(['in_pool', 'business_line', 'priority', 'requested_at', 'case_id']),
    db.schema.createIndex('rm_agent_queue_pool_all').on('rm_agent_queue').columns(['in_pool', 'priority', 'requested_at', 'case_id']),
    db.schema.createIndex('rm_agent_queue_mine').on('rm_agent_queue').columns(['assignee', 'open', 'priority', 'requested_at', 'case_id']),
    // A flag moves all of its buyer's cases.
    db.schema.createIndex('rm_agent_queue_buyer').on('rm_agent_queue').columns(['buyer_id']),
  ],

  async load(db, events) {
    const casesById = byCase(events);
    const flagChanged = [...flagsIn(events).keys()];
    const cases = new Map<string, CaseState>();
    const buyers = new Set<string>(flagChanged);
    for (const chunk of lookupChunks(knownCaseIds(events))) {
      const rows = await db.selectFrom('rm_agent_queue').select(['case_id', 'state']).where('case_id', 'in', chunk).execute();
      for (const row of rows) cases.set(row.case_id, JSON.parse(row.state) as CaseState);
    }
    // A flag change recomputes every open case of its buyer, those outside the batch too.
    for (const chunk of lookupChunks(flagChanged)) {
      const rows = await db.selectFrom('rm_agent_queue').select(['case_id', 'state']).where('buyer_id', 'in', chunk).where('open', '=', 1).execute();
      for (const row of rows) if (!cases.has(row.case_id)) cases.set(row.case_id, JSON.parse(row.state) as CaseState);
    }
    // New cases name their buyer in ReturnRequested; known ones in their state.
    for (const caseEvents of casesById.values()) {
      const request = caseEvents.find((e) => e.type === 'ReturnRequested');
      if (request) buyers.add((request.data as { buyerId: string }).buyerId);
    }
    for (const state of cases.values()) if (state.status !== 'none') buyers.add(state.buyerId);
    const flags = new Map<string, boolean>();
    for (const chunk of lookupChunks([...buyers])) {
      const rows = await db.selectFrom('rm_agent_queue_buyers').select(['buyer_id', 'flagged']).where('buyer_id', 'in', chunk).execute();
      for (const row of rows) flags.set(row.buyer_id, Number(row.flagged) === 1);
    }
    return { cases, flags };
  },

  write(db, events, loaded) {
    const changedFlags = flagsIn(events);
    const flags = new Map([...loaded.flags, ...changedFlags]);
    const rows: AgentQueueRow[] = [];
    const folded = new Set<string>();
    for (const [caseId, caseEvents] of byCase(events)) {
      folded.add(caseId);
      const before = loaded.cases.get(caseId) ?? initialCaseState;
      const after = foldCaseEvents(before, caseEvents);
      if (after !== before && after.status !== 'none') rows.push(agentQueueRow(after, flags.get(after.buyerId) ?? false));
    }
    // Cases the batch did not touch whose buyer's flag moved.
    for (const [caseId, state] of loaded.cases) {
      if (folded.has(caseId) || state.status === 'none' || !changedFlags.has(state.buyerId)) continue;
      rows.push(agentQueueRow(state, changedFlags.get(state.buyerId) ?? false));
    }
    const buyers = [...changedFlags].map(([buyer_id, flagged]) => ({ buyer_id, flagged: flagged ? 1 : 0 }));
    return [...upsertRows(db, UPSERT_BUYER, buyers), ...upsertRows(db, UPSERT, rows)];
  },
});

export function agentQueueRow(c: AfterSalesCase, buyerFlagged: boolean): AgentQueueRow {
  const next = nextDeadline(c);
  return {
    case_id: c.caseId,
    order_id: c.orderId,
    buyer_id: c.buyerId,
    business_line: c.businessLine,
    kind: c.kind,
    reason: c.reason,
    status: c.status,
    priority: c.priority,
    assignee: c.assignee ?? null,
    open: inHolderQueue(c) ? 1 : 0,
    in_pool: inAgentPool(c, buyerFlagged) ? 1 : 0,
    requested_at: c.requestedAt,
    waiting_since: c.statusSince,
    next_deadline_name: next?.name ?? null,
    next_deadline_at: next?.at ?? null,
    revision: c.revision,
    state: JSON.stringify(c),
  };
}

/** The last flag state each buyer stream of the batch leaves (events in log order). */
function flagsIn(events: readonly StoredEvent[]): Map<string, boolean> {
  const flags = new Map<string, boolean>();
  for (const event of events) {
    if (!event.streamName.startsWith(BUYER_STREAM_PREFIX)) continue;
    const buyerId = event.streamName.slice(BUYER_STREAM_PREFIX.length);
    if (event.type === 'BuyerFlagged') flags.set(buyerId, true);
    else if (event.type === 'BuyerUnflagged') flags.set(buyerId, false);
  }
  return flags;
}
