import { Kysely, SqliteDialect, type CompiledQuery } from 'kysely';
import { CaseListQuery, caseListProjection, openReadStore, prepareProjection, type CaseListFilter, type CaseListRow, type ReadModelTables, type ReadStore } from '@aftersales/read-models';
import { openTestReadStore, type TestReadStore } from './support/read-stores';

const ADMIN = { role: 'admin', id: 'admin-1' } as const;

/** Cases of many buyers in a few statuses, one in a hundred with a running deadline. */
function rows(count: number): CaseListRow[] {
  return Array.from({ length: count }, (_, n) => ({
    case_id: `c${n}`,
    order_id: `o${n}`,
    buyer_id: `u${n % 700}`,
    merchant_id: `m${n % 7}`,
    business_line: `line${n % 3}`,
    kind: ['refund_only', 'return_and_refund', 'exchange'][n % 3],
    reason: ['not_received', 'quality_defect', 'wrong_item', 'changed_mind'][n % 4],
    status: n % 100 === 0 ? 'pending_merchant' : ['completed', 'closed'][n % 2],
    requested_amount: 1000,
    refunded: 0,
    currency: 'CNY',
    priority: 0,
    assignee: null,
    requested_at: new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString(),
    updated_at: new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString(),
    next_deadline_name: n % 100 === 0 ? 'merchantResponse' : null,
    next_deadline_at: n % 100 === 0 ? new Date(Date.UTC(2026, 6, 1) + n * 60_000).toISOString() : null,
    revision: 1,
    state: '{}',
  }));
}

describe('the case list on SQLite, as a process opening the file plans it', () => {
  let t: TestReadStore;
  let reader: ReadStore;

  beforeEach(async () => {
    t = await openTestReadStore('sqlite');
    await prepareProjection(t.store, caseListProjection);
    const all = rows(20_000);
    for (let i = 0; i < all.length; i += 1000) await t.store.db.insertInto('rm_case_list').values(all.slice(i, i + 1000)).execute();
    reader = openReadStore(t.readStoreConfig);
  });
  afterEach(async () => {
    await reader.close();
    await t.cleanup();
  });

  /** How SQLite runs the list's query for these filters: the plan's steps. */
  async function planOf(filter: CaseListFilter): Promise<string[]> {
    const database = reader.sqlite!;
    const ran: CompiledQuery[] = [];
    const db = new Kysely<ReadModelTables>({ dialect: new SqliteDialect({ database }), log: (event) => void ran.push(event.query) });
    const items = await new CaseListQuery({ ...reader, db }).list(ADMIN, filter, { limit: 20 });
    expect(items.items.length).toBeGreaterThan(0);
    const [query] = ran;
    return (database.prepare(`explain query plan ${query.sql}`).all(...(query.parameters as unknown[])) as Array<{ detail: string }>).map((r) => r.detail);
  }

  it('reads the cases with a deadline due through the deadline index, not every case newest first', async () => {
    const plan = await planOf({ deadlineBefore: '2026-07-02T00:00:00.000Z' });
    expect(plan.join(' | ')).toContain('INDEX rm_case_list_deadline');
  });

  it('reads one buyer\'s cases of a status through the buyer index, not all cases of that status', async () => {
    const plan = await planOf({ buyerId: 'u7', status: 'closed' });
    expect(plan.join(' | ')).toContain('INDEX rm_case_list_buyer');
  });

  it('reads a kind and a reason together through their pair\'s index, not every case of the kind', async () => {
    const plan = await planOf({ kind: 'exchange', reason: 'wrong_item' });
    expect(plan.join(' | ')).toContain('INDEX rm_case_list_kind_reason');
  });
});
