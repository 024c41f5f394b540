import fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { loadConfig } from '@aftersales/config';
import { caseStream, type Actor } from '@aftersales/domain';
import { EventStoreUnavailableError, SqliteEventStore } from '@aftersales/event-store';
import { ExecuteCaseCommand, ExecuteOrderCommand, PolicyService, type CommandOrigin } from '@aftersales/application';
import { ExecuteCaseCommandHandler } from '../../libs/application/src/commands/execute-case-command.handler';
import { ExecuteOrderCommandHandler } from '../../libs/application/src/commands/execute-order-command.handler';
import { OrderFollowUpService } from '../../libs/application/src/commands/order-follow-up.service';
import { OrderRepairPass } from '../../libs/application/src/repair/order-repair.pass';
import { loadOrder } from '../../libs/application/src/events/streams';
import { SimClock, orderSnapshot } from '../simulation/support/money-world';

// Item by item of DOMAIN.md's *Money* on a real SQLite file: an answer built
// on a read waits for the disk, and the repair pass fences a case that was
// never written so its lines come free.

const buyer: Actor = { role: 'buyer', id: 'u1' };
const merchant: Actor = { role: 'merchant', id: 'm1-staff', merchantId: 'm1' };
const orderSystem: Actor = { role: 'integration', id: 'order-system' };
const origin = (actor: Actor): CommandOrigin => ({ actor: { role: actor.role, id: actor.id }, channel: 'api', correlationId: 'test' });

describe('command answers and repairs on SQLite', () => {
  let dir: string;
  let store: SqliteEventStore;
  let clock: SimClock;
  let cases: ExecuteCaseCommandHandler;
  let followUps: OrderFollowUpService;

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['error', 'warn', 'log']));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aftersales-durable-'));
    store = new SqliteEventStore({ path: join(dir, 'events.db') });
    clock = new SimClock(new Date('2026-01-05T00:00:00.000Z'));
    followUps = new OrderFollowUpService(store, clock);
    cases = new ExecuteCaseCommandHandler(store, new PolicyService(loadConfig({}), store), followUps, clock);
    const orders = new ExecuteOrderCommandHandler(store, clock);
    const send = (command: ExecuteOrderCommand['command']) => orders.execute(new ExecuteOrderCommand('o1', command, origin(orderSystem)));
    await send({ type: 'register', actor: orderSystem, data: orderSnapshot('o1', 500) });
    await send({ type: 'mark-shipped', actor: orderSystem, data: { carrier: 'SF', trackingNumber: 'SF-1', shippedAt: '2026-01-02T00:00:00.000Z' } });
    await send({ type: 'mark-delivered', actor: orderSystem, data: { deliveredAt: '2026-01-04T00:00:00.000Z' } });
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const request = (caseId: string) =>
    cases.execute(
      new ExecuteCaseCommand(
        caseId,
        { type: 'request', actor: buyer, data: { caseId, orderId: 'o1', kind: 'partial_refund', reason: 'quality_defect', lines: [{ lineId: 'L1', quantity: 1 }], requestedAmount: 3_000, channel: 'app', pickup: false } },
        origin(buyer),
      ),
    );

  it('answers a command that records nothing only once what it read is on disk', async () => {
    await request('c1');
    await cases.execute(new ExecuteCaseCommand('c1', { type: 'approve', actor: merchant, data: {} }, origin(merchant)));

    const settle = async () => {
      const issued = (await store.readStream(caseStream('c1'))).find((e) => e.type === 'RefundIssued')?.data as { refundId: string };
      return cases.execute(new ExecuteCaseCommand('c1', { type: 'refund-settled', actor: { role: 'integration', id: 'pay' }, data: { refundId: issued.refundId, at: clock.now().toISOString() } }, origin(orderSystem)));
    };
    await settle();

    // Hold every fsync back: the repeated settlement reads the case, decides nothing, and must not answer yet.
    const held: Array<() => void> = [];
    const realFsync = fs.fsync;
    jest.spyOn(fs, 'fsync').mockImplementation(((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      held.push(() => realFsync(fd, callback));
    }) as typeof fs.fsync);
    let answered = false;
    const repeat = settle().then((result) => {
      answered = true;
      return result;
    });
    await waitFor(() => held.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answered).toBe(false);
    for (const release of held.splice(0)) release();
    const result = await repeat;
    expect(result.appended).toBe(false);
    expect(answered).toBe(true);
  });

  it('answers with what it recorded when the order follow-up after the case append fails, and the repair pass applies it', async () => {
    await request('c1');
    await cases.execute(new ExecuteCaseCommand('c1', { type: 'approve', actor: merchant, data: {} }, origin(merchant)));
    const issued = (await store.readStream(caseStream('c1'))).find((e) => e.type === 'RefundIssued')?.data as { refundId: string };
    // The order stream refuses every write from now on: the settlement's follow-up cannot be applied.
    const append = store.append.bind(store);
    const refusing = jest.spyOn(store, 'append').mockImplementation(async (stream, events, options) => {
      if (stream.startsWith('order-')) throw new EventStoreUnavailableError('injected: order stream down');
      return append(stream, events, options);
    });
    const settled = await cases.execute(
      new ExecuteCaseCommand('c1', { type: 'refund-settled', actor: { role: 'integration', id: 'pay' }, data: { refundId: issued.refundId, at: clock.now().toISOString() } }, origin(orderSystem)),
    );
    expect(settled).toMatchObject({ appended: true, state: { status: 'completed' } });
    const before = (await loadOrder(store, 'o1')).state;
    expect(before.status !== 'none' && before.reservations[issued.refundId].status).toBe('reserved');

    refusing.mockRestore();
    await new OrderRepairPass(store, followUps, clock).runOnce();
    const after = (await loadOrder(store, 'o1')).state;
    expect(after.status !== 'none' && after.reservations[issued.refundId].status).toBe('settled');
    expect(after.status !== 'none' && after.holds.c1.active).toBe(false);
  });

  it('fences a case that was never written after its lines were held, and frees the lines', async () => {
    // A request held L1 and its process died before writing the case.
    await store.append('order-o1', [{ id: '0190a1a2-0000-7000-8000-000000000001', type: 'OrderLinesHeld', data: { caseId: 'ghost', lines: [{ lineId: 'L1', quantity: 1 }], caseRevision: -1 }, metadata: { occurredAt: clock.now().toISOString() } }], { expectedRevision: 'any' });
    await expect(request('c2')).rejects.toMatchObject({ refusal: { rule: 'line_held_by_active_case' } });

    const pass = new OrderRepairPass(store, followUps, clock);
    expect((await pass.runOnce()).abandoned).toEqual([]); // too early: the request might still be writing it
    clock.advance(16 * 60_000);
    expect((await pass.runOnce()).abandoned).toEqual(['ghost']);
    expect((await store.readStream(caseStream('ghost'))).map((e) => e.type)).toEqual(['RequestAbandoned']);

    await expect(request('c2')).resolves.toMatchObject({ appended: true });
    // The late request for the fenced id is refused, never opened.
    await expect(request('ghost')).rejects.toMatchObject({ refusal: { reason: 'request_abandoned' } });
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
