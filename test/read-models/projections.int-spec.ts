import type { StoredEvent } from '@aftersales/event-store';
import {
  caseListProjection,
  caseTimelineProjection,
  CaseListQuery,
  CaseTimelineQuery,
  prepareProjection,
  readCheckpoint,
  storeBatch,
  type AnyProjection,
  type ReadStore,
} from '@aftersales/read-models';
import { AGENT, CaseHistory, MERCHANT, orderEvent, PAYMENTS, SYSTEM } from './support/case-history';
import { DIALECTS, openTestReadStore, type TestReadStore } from './support/read-stores';

/**
 * given(events).then(rows): the projection stores the batches as the runner
 * does, each with the checkpoint it follows. A batch may repeat events of an
 * earlier one (a crash after the commit, before the follower knew): they are
 * below the checkpoint and skipped.
 */
async function given(store: ReadStore, projection: AnyProjection, ...batches: StoredEvent[][]): Promise<void> {
  await prepareProjection(store, projection);
  for (const events of batches) {
    const expected = await readCheckpoint(store.db, projection.name);
    const position = Math.max(expected, ...events.map((e) => e.position));
    await storeBatch(store, projection, { expected, position, events });
  }
}

const buyer = { role: 'buyer' as const, id: 'u1' };
const admin = { role: 'admin' as const, id: 'admin-1' };

describe.each(DIALECTS)('projections on %s', (dialect) => {
  let t: TestReadStore;

  beforeEach(async () => {
    t = await openTestReadStore(dialect);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  describe('case_list', () => {
    it('folds a case into one row with what the list shows, whatever the batches', async () => {
      const c = new CaseHistory('c1').requested('2026-05-01T10:00:00.000Z');
      const passedOver = orderEvent('2026-05-01T10:30:00.000Z');
      c.add('DeadlineSet', { name: 'merchantResponse', dueAt: '2026-05-03T10:00:00.000Z' }, '2026-05-01T10:00:00.000Z')
        .add('CaseClaimed', { agentId: 'agent-1' }, '2026-05-01T11:00:00.000Z', AGENT, 'agent')
        .add('MerchantAgreed', { amount: 5000, auto: false }, '2026-05-01T12:00:00.000Z', MERCHANT, 'web')
        .add('RefundIssued', { refundId: 'r1', amount: 5000, purpose: 'refund', express: false }, '2026-05-01T12:00:00.000Z', MERCHANT, 'web')
        .add('RefundSettled', { refundId: 'r1', at: '2026-05-01T12:05:00.000Z' }, '2026-05-01T12:05:00.000Z', PAYMENTS, 'api');
      const [first, ...rest] = c.events;
      await given(t.store, caseListProjection, [first, passedOver], rest);

      const rows = await t.store.db.selectFrom('rm_case_list').selectAll().execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        case_id: 'c1',
        order_id: 'o-c1',
        buyer_id: 'u1',
        merchant_id: 'm1',
        business_line: 'apparel',
        kind: 'refund_only',
        reason: 'not_received',
        status: 'refunding',
        requested_amount: 5000,
        refunded: 5000,
        currency: 'CNY',
        priority: 0,
        assignee: 'agent-1',
        requested_at: '2026-05-01T10:00:00.000Z',
        updated_at: '2026-05-01T12:05:00.000Z',
        // Approval ended the merchantResponse deadline; refunding has none.
        next_deadline_name: null,
        next_deadline_at: null,
        revision: 5,
      });
    });

    it('keeps the earliest running deadline, and skips an event it has applied already', async () => {
      const c = new CaseHistory('c2')
        .requested('2026-05-02T10:00:00.000Z')
        .add('DeadlineSet', { name: 'merchantResponse', dueAt: '2026-05-04T10:00:00.000Z' }, '2026-05-02T10:00:00.000Z');
      await given(t.store, caseListProjection, c.events, [c.events[1]]);
      const row = await t.store.db.selectFrom('rm_case_list').selectAll().executeTakeFirstOrThrow();
      expect(row).toMatchObject({ status: 'pending_merchant', next_deadline_name: 'merchantResponse', next_deadline_at: '2026-05-04T10:00:00.000Z', revision: 1 });
    });

    it('opens no row for a case id fenced before its request was recorded', async () => {
      const c = new CaseHistory('c3').add('RequestAbandoned', { caseId: 'c3', orderId: 'o-c3' }, '2026-05-02T10:00:00.000Z', SYSTEM);
      await given(t.store, caseListProjection, c.events);
      expect(await t.store.db.selectFrom('rm_case_list').selectAll().execute()).toEqual([]);
    });

    it('answers the list query newest first with statusLabel for the caller', async () => {
      const older = new CaseHistory('c4').requested('2026-05-01T00:00:00.000Z');
      const newer = new CaseHistory('c5').requested('2026-05-02T00:00:00.000Z', { buyerId: 'u2' });
      await given(t.store, caseListProjection, [...older.events, ...newer.events]);
      const query = new CaseListQuery(t.store);
      const all = await query.list(admin, {}, { limit: 10 });
      expect(all.items.map((i) => i.caseId)).toEqual(['c5', 'c4']);
      expect(all.items[0].statusLabel).toBe('pending_merchant');
      const mine = await query.list(buyer, {}, { limit: 10 });
      expect(mine.items).toEqual([expect.objectContaining({ caseId: 'c4', statusLabel: 'Waiting for the seller (待商家处理)' })]);
    });
  });

  describe('case_timeline', () => {
    it('stores every event once, with its actor and channel, and tells each audience its part', async () => {
      const c = new CaseHistory('c6')
        .requested('2026-05-01T10:00:00.000Z')
        .add('DeadlineSet', { name: 'merchantResponse', dueAt: '2026-05-03T10:00:00.000Z' }, '2026-05-01T10:00:00.000Z')
        .add('CaseNoteAdded', { text: 'called the buyer' }, '2026-05-01T11:00:00.000Z', AGENT, 'agent')
        .add('MerchantRejected', { reason: 'used', note: 'worn twice' }, '2026-05-01T12:00:00.000Z', MERCHANT, 'web')
        .add('DeadlineSet', { name: 'buyerAppeal', dueAt: '2026-05-08T12:00:00.000Z' }, '2026-05-01T12:00:00.000Z', MERCHANT, 'web');
      await given(t.store, caseTimelineProjection, c.events.slice(0, 3), c.events);
      expect(await t.store.db.selectFrom('rm_case_timeline').select('revision').orderBy('revision').execute()).toHaveLength(5);

      const query = new CaseTimelineQuery(t.store);
      const forBuyer = await query.timeline(buyer, 'c6');
      expect(forBuyer).toEqual({
        caseId: 'c6',
        status: 'rejected',
        statusLabel: 'Seller declined (商家已拒绝)',
        next: { waitingFor: 'buyer: amend, escalate or withdraw', deadline: { name: 'buyerAppeal', at: '2026-05-08T12:00:00.000Z' } },
        items: [
          { at: '2026-05-01T10:00:00.000Z', label: 'Request submitted' },
          { at: '2026-05-01T12:00:00.000Z', label: 'Seller declined' },
        ],
      });

      const forMerchant = await query.timeline({ role: 'merchant', id: 'm1-staff', merchantId: 'm1' }, 'c6');
      expect(forMerchant?.items.map((i) => i.type)).toEqual(['ReturnRequested', 'DeadlineSet', 'MerchantRejected', 'DeadlineSet']);

      const forStaff = await query.timeline(admin, 'c6');
      expect(forStaff?.statusLabel).toBe('rejected');
      expect(forStaff?.items).toHaveLength(5);
      expect(forStaff?.items[2]).toEqual({
        at: '2026-05-01T11:00:00.000Z',
        label: 'Note added',
        type: 'CaseNoteAdded',
        actor: { role: 'agent', id: 'agent-1' },
        channel: 'agent',
        note: 'called the buyer',
        data: { text: 'called the buyer' },
      });
      expect(forStaff?.items[3]).toMatchObject({ note: 'worn twice', actor: { role: 'merchant', id: 'm1-staff' } });
    });

    it('is not found for a caller who may not see the case, nor for an unknown one', async () => {
      const c = new CaseHistory('c7').requested('2026-05-01T10:00:00.000Z');
      await given(t.store, caseTimelineProjection, c.events);
      const query = new CaseTimelineQuery(t.store);
      expect(await query.timeline({ role: 'buyer', id: 'u2' }, 'c7')).toBeUndefined();
      expect(await query.timeline({ role: 'agent', id: 'a9', businessLine: 'groceries' }, 'c7')).toBeUndefined();
      expect(await query.timeline(admin, 'nope')).toBeUndefined();
      expect(await query.timeline({ role: 'agent', id: 'a1', businessLine: 'apparel' }, 'c7')).toMatchObject({ caseId: 'c7' });
    });
  });
});
