import type { StoredEvent } from '@aftersales/event-store';
import { AgentQueueQuery, agentQueueProjection, prepareProjection, readCheckpoint, storeBatch, type AnyProjection, type ReadStore } from '@aftersales/read-models';
import { AGENT, CaseHistory, MERCHANT, PAYMENTS, SYSTEM } from './support/case-history';
import { DIALECTS, openTestReadStore, type TestReadStore } from './support/read-stores';

/** Stores the batches as the runner does, each with the checkpoint it follows. */
async function given(store: ReadStore, projection: AnyProjection, ...batches: StoredEvent[][]): Promise<void> {
  await prepareProjection(store, projection);
  for (const events of batches) {
    const expected = await readCheckpoint(store.db, projection.name);
    const position = Math.max(expected, ...events.map((e) => e.position));
    await storeBatch(store, projection, { expected, position, events });
  }
}

/** An event of the buyer stream `buyer-<buyerId>`, as the admin's flag route records it, at the log's next position. */
function buyerEvent(buyerId: string, type: 'BuyerFlagged' | 'BuyerUnflagged', at: string): StoredEvent {
  const [event] = new CaseHistory('unused').add(type, { buyerId, reason: 'many refunds' }, at, { role: 'admin', id: 'admin-1' }, 'web').events;
  return { ...event, streamName: `buyer-${buyerId}` };
}

const rows = (store: ReadStore) => store.db.selectFrom('rm_agent_queue').selectAll().orderBy('case_id').execute();
const agent = { role: 'agent' as const, id: 'agent-1', businessLine: 'apparel' };
const admin = { role: 'admin' as const, id: 'admin-1' };

describe.each(DIALECTS)('agent_queue projection on %s', (dialect) => {
  let t: TestReadStore;

  beforeEach(async () => {
    t = await openTestReadStore(dialect);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('puts an escalated unheld case in its line\'s pool, and a claim moves it to the agent\'s own queue', async () => {
    const c = new CaseHistory('q1')
      .requested('2026-05-01T10:00:00.000Z')
      .add('DeadlineSet', { name: 'merchantResponse', dueAt: '2026-05-03T10:00:00.000Z' }, '2026-05-01T10:00:00.000Z')
      .add('MerchantRejected', { reason: 'used' }, '2026-05-01T12:00:00.000Z', MERCHANT, 'web')
      .add('CaseEscalated', { reason: 'it was new' }, '2026-05-02T09:00:00.000Z')
      .add('DeadlineSet', { name: 'platformRulingSla', dueAt: '2026-05-05T09:00:00.000Z' }, '2026-05-02T09:00:00.000Z');
    await given(t.store, agentQueueProjection, c.events.slice(0, 2), c.events.slice(2));
    expect(await rows(t.store)).toEqual([
      expect.objectContaining({
        case_id: 'q1',
        order_id: 'o-q1',
        buyer_id: 'u1',
        business_line: 'apparel',
        status: 'escalated',
        priority: 0,
        assignee: null,
        open: 1,
        in_pool: 1,
        requested_at: '2026-05-01T10:00:00.000Z',
        waiting_since: '2026-05-02T09:00:00.000Z',
        next_deadline_name: 'platformRulingSla',
        next_deadline_at: '2026-05-05T09:00:00.000Z',
        revision: 4,
      }),
    ]);

    c.add('CaseClaimed', { agentId: 'agent-1' }, '2026-05-02T10:00:00.000Z', AGENT, 'agent');
    await given(t.store, agentQueueProjection, c.events.slice(-1));
    expect(await rows(t.store)).toEqual([expect.objectContaining({ assignee: 'agent-1', in_pool: 0, open: 1 })]);
  });

  it('follows a refund past its last attempt into the pool, and not one that may still be retried', async () => {
    const c = new CaseHistory('q2')
      .requested('2026-05-01T10:00:00.000Z')
      .add('MerchantAgreed', { amount: 5000, auto: false }, '2026-05-01T11:00:00.000Z', MERCHANT, 'web')
      .add('RefundIssued', { refundId: 'r1', amount: 5000, purpose: 'refund', express: false }, '2026-05-01T11:00:00.000Z', MERCHANT, 'web')
      .add('RefundFailed', { refundId: 'r1', attempt: 1, final: false, error: 'timeout' }, '2026-05-01T11:05:00.000Z', PAYMENTS, 'api');
    await given(t.store, agentQueueProjection, c.events);
    expect(await rows(t.store)).toEqual([expect.objectContaining({ status: 'refunding', in_pool: 0 })]);
    c.add('RefundFailed', { refundId: 'r1', attempt: 3, final: true, error: 'account closed' }, '2026-05-01T12:00:00.000Z', PAYMENTS, 'api');
    await given(t.store, agentQueueProjection, c.events.slice(-1));
    expect(await rows(t.store)).toEqual([expect.objectContaining({ status: 'refunding', in_pool: 1 })]);
  });

  it('moves every open case of a buyer in and out of the pool with the buyer\'s flag, before or after the case', async () => {
    const early = buyerEvent('u7', 'BuyerFlagged', '2026-04-30T00:00:00.000Z');
    const a = new CaseHistory('q3').requested('2026-05-01T10:00:00.000Z', { buyerId: 'u7' });
    const b = new CaseHistory('q4').requested('2026-05-01T11:00:00.000Z', { buyerId: 'u8' });
    const done = new CaseHistory('q5')
      .requested('2026-05-01T09:00:00.000Z', { buyerId: 'u8' })
      .add('CaseWithdrawn', {}, '2026-05-01T09:30:00.000Z')
      .add('CaseClosed', { reason: 'withdrawn' }, '2026-05-01T09:30:00.000Z');
    await given(t.store, agentQueueProjection, [early, ...a.events], [...b.events, ...done.events]);
    const inPool = async () => Object.fromEntries((await rows(t.store)).map((r) => [r.case_id, r.in_pool]));
    expect(await inPool()).toEqual({ q3: 1, q4: 0, q5: 0 });

    // Flagged after its cases: the open one joins the pool, the closed one never does.
    await given(t.store, agentQueueProjection, [buyerEvent('u8', 'BuyerFlagged', '2026-05-02T00:00:00.000Z')]);
    expect(await inPool()).toEqual({ q3: 1, q4: 1, q5: 0 });
    await given(t.store, agentQueueProjection, [buyerEvent('u7', 'BuyerUnflagged', '2026-05-02T01:00:00.000Z')]);
    expect(await inPool()).toEqual({ q3: 0, q4: 1, q5: 0 });
  });

  it('answers pools and own queues by priority, then oldest, in keyset pages scoped to the caller', async () => {
    const escalated = (id: string, at: string, extra: Record<string, unknown> = {}) =>
      new CaseHistory(id)
        .requested(at, extra)
        .add('MerchantRejected', { reason: 'no' }, at, MERCHANT, 'web')
        .add('CaseEscalated', {}, at);
    const old = escalated('p1', '2026-05-01T00:00:00.000Z');
    const urged = escalated('p2', '2026-05-03T00:00:00.000Z').add('CaseUrged', { waitingFor: 'platform', priority: 2 }, '2026-05-04T00:00:00.000Z', SYSTEM);
    const young = escalated('p3', '2026-05-02T00:00:00.000Z');
    const other = escalated('p4', '2026-05-01T00:00:00.000Z', { businessLine: 'groceries' });
    const held = escalated('p5', '2026-04-01T00:00:00.000Z').add('CaseClaimed', { agentId: 'agent-1' }, '2026-05-05T00:00:00.000Z', AGENT, 'agent');
    await given(t.store, agentQueueProjection, [...old.events, ...urged.events, ...young.events, ...other.events, ...held.events]);

    const query = new AgentQueueQuery(t.store);
    const ids = (page: { items: Array<{ caseId: string }> }) => page.items.map((i) => i.caseId);
    const first = await query.list(agent, { queue: 'pool' }, { limit: 2 });
    expect(ids(first)).toEqual(['p2', 'p1']);
    expect(first.items[0]).toEqual({
      caseId: 'p2',
      orderId: 'o-p2',
      businessLine: 'apparel',
      kind: 'refund_only',
      reason: 'not_received',
      status: 'escalated',
      priority: 2,
      requestedAt: '2026-05-03T00:00:00.000Z',
      waitingSince: '2026-05-03T00:00:00.000Z',
    });
    const second = await query.list(agent, { queue: 'pool' }, { limit: 2, cursor: first.nextCursor });
    expect(ids(second)).toEqual(['p3']);
    expect(second.nextCursor).toBeUndefined();

    expect(ids(await query.list(agent, { queue: 'pool', businessLine: 'groceries' }, { limit: 10 }))).toEqual([]);
    expect(ids(await query.list(admin, { queue: 'pool', businessLine: 'groceries' }, { limit: 10 }))).toEqual(['p4']);
    expect(ids(await query.list(admin, { queue: 'pool' }, { limit: 10 }))).toEqual(['p2', 'p1', 'p4', 'p3']);
    expect(ids(await query.list(agent, { queue: 'mine' }, { limit: 10 }))).toEqual(['p5']);
    expect(ids(await query.list({ ...agent, id: 'agent-2' }, { queue: 'mine' }, { limit: 10 }))).toEqual([]);
    // A cursor from one queue is refused by another's.
    expect(() => query.checkCursor({ ...agent, id: 'agent-2' }, { queue: 'pool' }, first.nextCursor)).toThrow('must be a cursor');
    expect(() => query.checkCursor(admin, { queue: 'pool' }, first.nextCursor)).toThrow('must be a cursor');
  });
});
