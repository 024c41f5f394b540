import { sql } from 'kysely';
import { statusLabel, type Actor } from '@aftersales/domain';
import type { ReadStore } from '../store/read-store';
import type { CaseListRow } from '../store/tables';
import { decodeListCursor, encodeListCursor, listScopeDigest } from './list-cursor';
import { readerScope } from './reader-scope';

/** API.md's filters of `GET /v1/cases`; times already checked and in ISO-8601 UTC. */
export interface CaseListFilter {
  status?: string;
  merchantId?: string;
  buyerId?: string;
  kind?: string;
  reason?: string;
  /** requestedAt ≥ from */
  from?: string;
  /** requestedAt < to */
  to?: string;
  /** The next running deadline falls before this time. */
  deadlineBefore?: string;
}

export interface CaseListItem {
  caseId: string;
  orderId: string;
  buyerId: string;
  merchantId: string;
  kind: string;
  reason: string;
  status: string;
  statusLabel: string;
  requestedAmount: number;
  refunded: number;
  currency: string;
  priority: number;
  assignee?: string;
  requestedAt: string;
  updatedAt: string;
  nextDeadline?: { name: string; at: string };
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/**
 * `GET /v1/cases` from the `case_list` read model: the caller's scope and
 * filters, newest `requestedAt` first (ties by case id), keyset pages.
 */
export class CaseListQuery {
  constructor(private readonly store: ReadStore) {}

  /** Throws InvalidCursorError unless `cursor` came from this caller's list with these filters (before any wait). */
  checkCursor(reader: Actor, filter: CaseListFilter, cursor: string | undefined): void {
    if (cursor !== undefined) decodeListCursor(cursor, this.digest(reader, filter));
  }

  async list(reader: Actor, filter: CaseListFilter, page: { limit: number; cursor?: string }): Promise<Page<CaseListItem>> {
    const scope = readerScope(reader);
    const digest = this.digest(reader, filter);
    const after = page.cursor !== undefined ? decodeListCursor(page.cursor, digest) : undefined;
    if (scope.column === 'none') return { items: [] };

    let query = this.store.db.selectFrom('rm_case_list').select(LIST_COLUMNS);
    if (scope.column !== 'all') query = query.where(scope.column, '=', scope.value);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    if (filter.merchantId !== undefined) query = query.where('merchant_id', '=', filter.merchantId);
    if (filter.buyerId !== undefined) query = query.where('buyer_id', '=', filter.buyerId);
    if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
    if (filter.reason !== undefined) query = query.where('reason', '=', filter.reason);
    if (filter.from !== undefined) query = query.where('requested_at', '>=', filter.from);
    if (filter.to !== undefined) query = query.where('requested_at', '<', filter.to);
    if (filter.deadlineBefore !== undefined) {
      const before = filter.deadlineBefore;
      query = query.where('next_deadline_at', '<', before);
      // SQLite's planner cannot tell from its statistics how many cases have a deadline before that time, and
      // walks every case newest first looking for them. When they are few (counted on the index, up to a
      // bound), it is told so and reads them through the deadline index; when many, the walk finds a page soon.
      if (this.store.dialect === 'sqlite' && (await this.fewDeadlinesBefore(before))) {
        query = query.where(sql<boolean>`likelihood(${sql.ref('next_deadline_at')} is not null, 0.01)`);
      }
    }
    if (after) {
      query = query.where((eb) =>
        eb.or([eb('requested_at', '<', after.key), eb.and([eb('requested_at', '=', after.key), eb('case_id', '<', after.id)])]),
      );
    }
    const rows = await query.orderBy('requested_at', 'desc').orderBy('case_id', 'desc').limit(page.limit + 1).execute();
    const items = rows.slice(0, page.limit).map((row) => toItem(row, reader));
    const last = rows.length > page.limit ? items[items.length - 1] : undefined;
    return { items, ...(last ? { nextCursor: encodeListCursor(digest, { key: last.requestedAt, id: last.caseId }) } : {}) };
  }

  /** Whether fewer than FEW_DEADLINES cases (of any scope) have a running deadline before `before`: read on the index alone. */
  private async fewDeadlinesBefore(before: string): Promise<boolean> {
    const found = await this.store.db
      .selectFrom((eb) => eb.selectFrom('rm_case_list').select(sql<number>`1`.as('one')).where('next_deadline_at', '<', before).limit(FEW_DEADLINES).as('due'))
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    return Number(found?.n ?? 0) < FEW_DEADLINES;
  }

  /** A cursor is good for the list it came from: this scope, these filters. */
  private digest(reader: Actor, filter: CaseListFilter): string {
    return listScopeDigest({ scope: readerScope(reader).key, filter: normalised(filter) });
  }
}

/** Up to this many matches, a sort of them beats walking the whole list newest first. */
const FEW_DEADLINES = 2000;

const LIST_COLUMNS = [
  'case_id',
  'order_id',
  'buyer_id',
  'merchant_id',
  'kind',
  'reason',
  'status',
  'requested_amount',
  'refunded',
  'currency',
  'priority',
  'assignee',
  'requested_at',
  'updated_at',
  'next_deadline_name',
  'next_deadline_at',
] as const;

type ListedRow = Pick<CaseListRow, (typeof LIST_COLUMNS)[number]>;

function toItem(row: ListedRow, reader: Actor): CaseListItem {
  return {
    caseId: row.case_id,
    orderId: row.order_id,
    buyerId: row.buyer_id,
    merchantId: row.merchant_id,
    kind: row.kind,
    reason: row.reason,
    status: row.status,
    statusLabel: statusLabel(row.status as Parameters<typeof statusLabel>[0], reader.role),
    requestedAmount: row.requested_amount,
    refunded: row.refunded,
    currency: row.currency,
    priority: row.priority,
    ...(row.assignee !== null ? { assignee: row.assignee } : {}),
    requestedAt: row.requested_at,
    updatedAt: row.updated_at,
    ...(row.next_deadline_name !== null && row.next_deadline_at !== null ? { nextDeadline: { name: row.next_deadline_name, at: row.next_deadline_at } } : {}),
  };
}

/** The filter with its keys in one order and absent ones left out, so equal lists digest alike. */
function normalised(filter: CaseListFilter): Array<[string, string]> {
  return Object.entries(filter)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .sort(([a], [b]) => a.localeCompare(b));
}
