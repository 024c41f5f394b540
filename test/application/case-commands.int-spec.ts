import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@aftersales/config';
import { type Actor, type OrderSnapshot } from '@aftersales/domain';
import { SqliteEventStore } from '@aftersales/event-store';
import {
  CommandRefusedError,
  ExecuteCaseCommand,
  ExecuteOrderCommand,
  PolicyService,
  StreamReadsService,
  type CaseCommandResult,
  type CommandOrigin,
} from '@aftersales/application';
import { Clock } from '../../libs/application/src/commands/clock';
import { ExecuteCaseCommandHandler } from '../../libs/application/src/commands/execute-case-command.handler';
import { ExecuteOrderCommandHandler } from '../../libs/application/src/commands/execute-order-command.handler';
import { OrderFollowUpService } from '../../libs/application/src/commands/order-follow-up.service';

// The command path on a real SQLite file, without HTTP: the two-stream
// protocol (hold and reserve on the order first) under concurrent callers.

class FixedClock extends Clock {
  constructor(public at: Date) {
    super();
  }
  now(): Date {
    return this.at;
  }
}

const buyer: Actor = { role: 'buyer', id: 'u1' };
const merchant: Actor = { role: 'merchant', id: 'm-staff', merchantId: 'm1' };
const integration: Actor = { role: 'integration', id: 'order-system' };
const origin = (actor: Actor): CommandOrigin => ({ actor: { role: actor.role, id: actor.id }, channel: 'api', correlationId: 'test' });

function snapshot(orderId: string, lines: number): OrderSnapshot {
  const orderLines = Array.from({ length: lines }, (_, i) => ({
    lineId: `L${i + 1}`,
    sku: `SKU-${i + 1}`,
    productId: `p-${i + 1}`,
    title: `Item ${i + 1}`,
    category: 'tops',
    supplierId: 's-1',
    quantity: 1,
    unitPrice: 1000,
    paidAmount: 1000,
    noReasonReturn: true,
  }));
  return {
    orderId,
    buyerId: buyer.id,
    merchantId: 'm1',
    currency: 'CNY',
    paidAmount: lines * 1000 + 500,
    shippingFee: 500,
    paymentMethod: 'card',
    paymentAccount: 'acct-1',
    buyerTrustScore: 100,
    returnShippingInsured: false,
    businessLine: 'apparel',
    placedAt: '2026-01-01T00:00:00.000Z',
    lines: orderLines,
  };
}

describe('case commands on SQLite', () => {
  let dir: string;
  let store: SqliteEventStore;
  let clock: FixedClock;
  let cases: ExecuteCaseCommandHandler;
  /** Handlers as separate processes would have them: each with its own in-process order lock. */
  let otherProcesses: ExecuteCaseCommandHandler[];
  let orders: ExecuteOrderCommandHandler;
  let reads: StreamReadsService;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aftersales-app-'));
    store = new SqliteEventStore({ path: join(dir, 'events.db') });
    clock = new FixedClock(new Date('2026-01-02T00:00:00.000Z'));
    const policies = new PolicyService(loadConfig({}), store);
    cases = new ExecuteCaseCommandHandler(store, policies, new OrderFollowUpService(store, clock), clock);
    otherProcesses = [1, 2].map(() => new ExecuteCaseCommandHandler(store, policies, new OrderFollowUpService(store, clock), clock));
    orders = new ExecuteOrderCommandHandler(store, clock);
    reads = new StreamReadsService(store, policies, clock);
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const request = (caseId: string, orderId: string, lineIds: string[], kind = 'refund_only') =>
    cases.execute(
      new ExecuteCaseCommand(
        caseId,
        {
          type: 'request',
          actor: buyer,
          data: { caseId, orderId, kind: kind as 'refund_only', reason: 'changed_mind', lines: lineIds.map((lineId) => ({ lineId, quantity: 1 })), channel: 'app', pickup: false },
        },
        origin(buyer),
      ),
    );

  it('gives a line to exactly one of many concurrent requests', async () => {
    await orders.execute(new ExecuteOrderCommand('o1', { type: 'register', actor: integration, data: snapshot('o1', 1) }, origin(integration)));
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => request(`c${i}`, 'o1', ['L1'])));

    const won = outcomes.filter((o): o is PromiseFulfilledResult<CaseCommandResult> => o.status === 'fulfilled');
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as unknown);
    expect(won).toHaveLength(1);
    expect(refused).toHaveLength(19);
    for (const reason of refused) {
      expect(reason).toBeInstanceOf(CommandRefusedError);
      expect((reason as CommandRefusedError).refusal).toMatchObject({ type: 'BusinessRuleBroken', rule: 'line_held_by_active_case' });
    }
    // Refund-only before shipment is approved inside the request and its refund reserved on the order.
    expect(won[0].value.state).toMatchObject({ status: 'refunding' });
    const order = await reads.orderView('o1', buyer);
    expect(order.refundLedger).toEqual({ paid: 1500, reserved: 1000, refunded: 0, refundable: 500 });
    // Losers left no case stream behind.
    const streams = await store.readAll({ maxCount: 1000 });
    expect(new Set(streams.map((e) => e.streamName))).toEqual(new Set(['order-o1', `aftersales-${(won[0].value.state as { caseId: string }).caseId}`]));
  });

  it('keeps every refund of an order within what was paid when many cases are approved at once', async () => {
    await orders.execute(new ExecuteOrderCommand('o2', { type: 'register', actor: integration, data: snapshot('o2', 12) }, origin(integration)));
    await orders.execute(new ExecuteOrderCommand('o2', { type: 'mark-shipped', actor: integration, data: { carrier: 'sf', trackingNumber: 'T1', shippedAt: '2026-01-01T10:00:00.000Z' } }, origin(integration)));
    // Shipped: refund_only waits for the merchant (trust 100 is below auto-review's 600).
    for (let i = 1; i <= 12; i += 1) await request(`k${i}`, 'o2', [`L${i}`]);

    const approvals = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        [cases, ...otherProcesses][i % 3].execute(new ExecuteCaseCommand(`k${i + 1}`, { type: 'approve', actor: merchant, data: {} }, origin(merchant))),
      ),
    );
    expect(approvals.filter((o) => o.status === 'fulfilled')).toHaveLength(12);

    const order = await reads.orderView('o2', buyer);
    expect(order.refundLedger).toEqual({ paid: 12_500, reserved: 12_000, refunded: 0, refundable: 500 });
    const issued = (await store.readAll({ maxCount: 10_000 })).filter((e) => e.type === 'RefundIssued');
    expect(issued).toHaveLength(12);
    expect(new Set(issued.map((e) => (e.data as { refundId: string }).refundId)).size).toBe(12);
  });

  it('refuses with If-Match on a stale revision and appends nothing', async () => {
    await orders.execute(new ExecuteOrderCommand('o3', { type: 'register', actor: integration, data: snapshot('o3', 1) }, origin(integration)));
    await orders.execute(new ExecuteOrderCommand('o3', { type: 'mark-shipped', actor: integration, data: { carrier: 'sf', trackingNumber: 'T3', shippedAt: '2026-01-01T10:00:00.000Z' } }, origin(integration)));
    const opened = await request('x1', 'o3', ['L1']);
    const before = await store.headPosition();
    await expect(cases.execute(new ExecuteCaseCommand('x1', { type: 'approve', actor: merchant, data: {} }, origin(merchant), opened.revision + 5))).rejects.toMatchObject({
      name: 'PreconditionFailedError',
    });
    expect(await store.headPosition()).toBe(before);
    const approved = await cases.execute(new ExecuteCaseCommand('x1', { type: 'approve', actor: merchant, data: {} }, origin(merchant), opened.revision));
    expect(approved.state).toMatchObject({ status: 'refunding' });
  });
});
