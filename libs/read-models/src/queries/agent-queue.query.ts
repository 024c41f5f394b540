import type { Actor } from '@aftersales/domain';
import type { ReadStore } from '../store/read-store';
import type { AgentQueueRow } from '../store/tables';
import type { Page } from './case-list.query';
import { decodeListCursor, encodeListCursor, InvalidCursorError, listScopeDigest, type ListPosition } from './list-cursor';

export interface AgentQueueItem {
  caseId: string;
  orderId: string;
  businessLine: string;
  kind: string;
  reason: string;
  status: string;
  priority: number;
  assignee?: string;
  requestedAt: string;
  /** When the current status began. */
  waitingSince: string;
  nextDeadline?: { name: string; at: string };
}

/** Which queue: a line's pool (or every line's, for admins), or the cases one agent holds. */
export type QueueSelection = { queue: 'pool'; businessLine?: string } | { queue: 'mine' };

/** What the caller's queue reads: rows of one line, of every line, of one holder, or nothing. */
type QueueScope = { pool: true; businessLine?: string } | { pool: false; assignee: string } | 'empty';

/**
 * `GET /v1/queues/pool` and `GET /v1/queues/mine` from the `agent_queue`
 * read model: highest priority first, then oldest (requestedAt, ties by
 * case id), keyset pages whose cursor names the queue it came from.
 */
export class AgentQueueQuery {
  constructor(private readonly store: ReadStore) {}

  /** Throws InvalidCursorError unless `cursor` came from this caller's queue (before any wait). */
  checkCursor(reader: Actor, selection: QueueSelection, cursor: string | undefined): void {
    if (cursor !== undefined) decodeQueueCursor(cursor, digest(reader, selection));
  }

  async list(reader: Actor, selection: QueueSelection, page: { limit: number; cursor?: string }): Promise<Page<AgentQueueItem>> {
    const scopeDigest = digest(reader, selection);
    const after = page.cursor !== undefined ? decodeQueueCursor(page.cursor, scopeDigest) : undefined;
    const scope = queueScope(reader, selection);
    if (scope === 'empty') return { items: [] };

    let query = this.store.db.selectFrom('rm_agent_queue').select(QUEUE_COLUMNS);
    if (scope.pool) {
      query = query.where('in_pool', '=', 1);
      if (scope.businessLine !== undefined) query = query.where('business_line', '=', scope.businessLine);
    } else {
      query = query.where('assignee', '=', scope.assignee).where('open', '=', 1);
    }
    if (after) {
      query = query.where((eb) =>
        eb.or([
          eb('priority', '<', after.priority),
          eb.and([
            eb('priority', '=', after.priority),
            eb.or([eb('requested_at', '>', after.requestedAt), eb.and([eb('requested_at', '=', after.requestedAt), eb('case_id', '>', after.caseId)])]),
          ]),
        ]),
      );
    }
    const rows = await query.orderBy('priority', 'desc').orderBy('requested_at', 'asc').orderBy('case_id', 'asc').limit(page.limit + 1).execute();
    const items = rows.slice(0, page.limit).map(toItem);
    const last = rows.length > page.limit ? items[items.length - 1] : undefined;
    return { items, ...(last ? { nextCursor: encodeQueueCursor(scopeDigest, last) } : {}) };
  }
}

/**
 * DOMAIN.md "Agent work": an agent's pool is its own line's (asking for
 * another line gives an empty list, as any filter outside the caller's
 * scope does); an admin's is the line asked for, or every line. `mine` is
 * the cases the agent holds. Other roles read no queue (the route refuses
 * them first).
 */
function queueScope(reader: Actor, selection: QueueSelection): QueueScope {
  if (selection.queue === 'mine') return reader.role === 'agent' ? { pool: false, assignee: reader.id } : 'empty';
  if (reader.role === 'admin') return { pool: true, businessLine: selection.businessLine };
  if (reader.role !== 'agent' || reader.businessLine === undefined) return 'empty';
  if (selection.businessLine !== undefined && selection.businessLine !== reader.businessLine) return 'empty';
  return { pool: true, businessLine: reader.businessLine };
}

/** A cursor is good for the queue it came from: this caller's scope and this selection. */
function digest(reader: Actor, selection: QueueSelection): string {
  const who = selection.queue === 'mine' || reader.role !== 'admin' ? `${reader.role}:${reader.id}:${reader.businessLine ?? ''}` : 'admin';
  return listScopeDigest({ queue: selection.queue, who, line: selection.queue === 'pool' ? (selection.businessLine ?? null) : null });
}

interface QueuePosition {
  priority: number;
  requestedAt: string;
  caseId: string;
}

/** The sort key (priority and requestedAt) rides in the list cursor's key as `<priority>~<requestedAt>`. */
function encodeQueueCursor(scopeDigest: string, item: AgentQueueItem): string {
  const position: ListPosition = { key: `${item.priority}~${item.requestedAt}`, id: item.caseId };
  return encodeListCursor(scopeDigest, position);
}

function decodeQueueCursor(cursor: string, scopeDigest: string): QueuePosition {
  const { key, id } = decodeListCursor(cursor, scopeDigest);
  const match = /^(\d{1,9})~(.+)$/.exec(key);
  if (!match) throw new InvalidCursorError();
  return { priority: Number(match[1]), requestedAt: match[2], caseId: id };
}

const QUEUE_COLUMNS = [
  'case_id',
  'order_id',
  'business_line',
  'kind',
  'reason',
  'status',
  'priority',
  'assignee',
  'requested_at',
  'waiting_since',
  'next_deadline_name',
  'next_deadline_at',
] as const;

type QueuedRow = Pick<AgentQueueRow, (typeof QUEUE_COLUMNS)[number]>;

function toItem(row: QueuedRow): AgentQueueItem {
  return {
    caseId: row.case_id,
    orderId: row.order_id,
    businessLine: row.business_line,
    kind: row.kind,
    reason: row.reason,
    status: row.status,
    priority: row.priority,
    ...(row.assignee !== null ? { assignee: row.assignee } : {}),
    requestedAt: row.requested_at,
    waitingSince: row.waiting_since,
    ...(row.next_deadline_name !== null && row.next_deadline_at !== null ? { nextDeadline: { name: row.next_deadline_name, at: row.next_deadline_at } } : {}),
  };
}
