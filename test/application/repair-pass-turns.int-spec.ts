import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { loadConfig } from '@aftersales/config';
import type { Actor } from '@aftersales/domain';
import { SqliteEventStore } from '@aftersales/event-store';
import { ExecuteCaseCommand, ExecuteOrderCommand, PolicyService, type CommandOrigin } from '@aftersales/application';
import { ExecuteCaseCommandHandler } from '../../libs/application/src/commands/execute-case-command.handler';
import { ExecuteOrderCommandHandler } from '../../libs/application/src/commands/execute-order-command.handler';
import { OrderFollowUpService } from '../../libs/application/src/commands/order-follow-up.service';
import { OrderRepairPass } from '../../libs/application/src/repair/order-repair.pass';
import { SimClock, orderSnapshot } from '../simulation/support/money-world';

// The repair pass shares the event loop with the command path. Its stream
// reads resolve at once, so a pass that never gave the loop a turn held
// every request for as long as it ran: seconds, once tens of thousands of
// open cases were watched (bench/RESULTS.md, the 6 s stall).

const ORDERS = 1_500;
const buyer: Actor = { role: 'buyer', id: 'u1' };
const merchant: Actor = { role: 'merchant', id: 'm1-staff', merchantId: 'm1' };
const orderSystem: Actor = { role: 'integration', id: 'order-system' };
const origin = (actor: Actor): CommandOrigin => ({ actor: { role: actor.role, id: actor.id }, channel: 'api', correlationId: 'test' });

/**
 * CPU time (ms) of the thread running the event loop. On Linux that thread
 * alone, from its /proc stat (in 10 ms ticks); elsewhere the whole
 * process's. The process's count also holds the garbage collector's helper
 * threads and SQLite's own threads, which run beside the loop without
 * holding it: under a loaded CI run they once added enough to one 5 ms
 * window to fail this test (107 ms against 100).
 */
const MAIN_THREAD_STAT = `/proc/self/task/${process.pid}/stat`;
const loopThreadCpuMs: () => number = existsSync(MAIN_THREAD_STAT)
  ? () => {
      const fields = readFileSync(MAIN_THREAD_STAT, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime in clock ticks (USER_HZ 100 on Linux)
    }
  : () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1000;
    };

/**
 * Runs `work` while a 5 ms timer notes the event loop thread's CPU time at
 * every turn the loop takes: the most CPU spent between two turns is how
 * long the work held the loop. CPU time rather than wall time, so a machine
 * too busy to schedule this process does not count as a stall of its own
 * making.
 */
async function longestStall<T>(work: () => Promise<T>): Promise<{ result: T; stallMs: number }> {
  const cpuMs = loopThreadCpuMs;
  let last = cpuMs();
  let stallMs = 0;
  const timer = setInterval(() => {
    const now = cpuMs();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 5);
  try {
    const result = await work();
    return { result, stallMs: Math.max(stallMs, cpuMs() - last) };
  } finally {
    clearInterval(timer);
  }
}

describe('the repair pass beside the command path', () => {
  let dir: string;
  let writer: SqliteEventStore;
  let cases: ExecuteCaseCommandHandler;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    dir = mkdtempSync(join(tmpdir(), 'aftersales-repair-turns-'));
    writer = new SqliteEventStore({ path: join(dir, 'events.db') });
    const clock = new SimClock(new Date('2026-01-05T00:00:00.000Z'));
    const orders = new ExecuteOrderCommandHandler(writer, clock);
    cases = new ExecuteCaseCommandHandler(writer, new PolicyService(loadConfig({}), writer), new OrderFollowUpService(writer, clock), clock);
    // Orders with two open cases each (one per line): every pair is watched, as in a busy service.
    const open = async (n: number) => {
      const orderId = `o${n}`;
      const send = (command: ExecuteOrderCommand['command']) => orders.execute(new ExecuteOrderCommand(orderId, command, origin(orderSystem)));
      await send({ type: 'register', actor: orderSystem, data: orderSnapshot(orderId, 500) });
      await send({ type: 'mark-shipped', actor: orderSystem, data: { carrier: 'SF', trackingNumber: `SF-${n}`, shippedAt: '2026-01-02T00:00:00.000Z' } });
      for (const lineId of ['L1', 'L2']) {
        const caseId = `c${n}-${lineId}`;
        await cases.execute(
          new ExecuteCaseCommand(
            caseId,
            { type: 'request', actor: buyer, data: { caseId, orderId, kind: 'refund_only', reason: 'not_received', lines: [{ lineId, quantity: 1 }], channel: 'app', pickup: false } },
            origin(buyer),
          ),
        );
      }
    };
    // 50 at a time, so appends share group commits.
    for (let first = 0; first < ORDERS; first += 50) await Promise.all(Array.from({ length: Math.min(50, ORDERS - first) }, (_, i) => open(first + i)));
  }, 120_000);

  afterAll(async () => {
    await writer.close();
    rmSync(dir, { recursive: true, force: true });
    Logger.overrideLogger(['error', 'warn', 'log']);
  });

  it('gives the event loop a turn at least every few milliseconds, however many pairs it watches', async () => {
    // A second store on the file, as a freshly started process: nothing folded yet, every pair read in full.
    const store = new SqliteEventStore({ path: join(dir, 'events.db') });
    try {
      const clock = new SimClock(new Date('2026-01-05T00:10:00.000Z'));
      const pass = new OrderRepairPass(store, new OrderFollowUpService(store, clock), clock);
      const { result, stallMs } = await longestStall(() => pass.runOnce());
      expect(result.checked).toBe(2 * ORDERS);
      expect(result.watching).toBe(2 * ORDERS);
      // Without turns of its own this pass held the loop for all of it (0.24 to 1 s of CPU, by machine).
      expect(stallMs).toBeLessThan(100);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('looks again only at the pairs whose streams gained events since it last looked', async () => {
    const store = new SqliteEventStore({ path: join(dir, 'events.db') });
    try {
      const clock = new SimClock(new Date('2026-01-05T00:10:00.000Z'));
      const pass = new OrderRepairPass(store, new OrderFollowUpService(store, clock), clock);
      expect((await pass.runOnce()).checked).toBe(2 * ORDERS);
      expect(await pass.runOnce()).toMatchObject({ checked: 0, watching: 2 * ORDERS });

      // An approve on one case: that pair (its case stream) and, through the
      // refund reserved on the order, the other case of the same order.
      await cases.execute(new ExecuteCaseCommand('c7-L1', { type: 'approve', actor: merchant, data: {} }, origin(merchant)));
      const report = await pass.runOnce();
      expect(report.checked).toBe(2);
      expect(report.watching).toBe(2 * ORDERS);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('lets go, without reading them, the pairs whose order has released everything it held for them', async () => {
    // 40 buyers withdraw one case each: the order releases those lines (OrderLinesReleased) when the case closes.
    const withdrawn = Array.from({ length: 40 }, (_, i) => `c${100 + i}-L2`);
    for (const caseId of withdrawn) await cases.execute(new ExecuteCaseCommand(caseId, { type: 'withdraw', actor: buyer, data: {} }, origin(buyer)));
    const store = new SqliteEventStore({ path: join(dir, 'events.db') });
    try {
      const clock = new SimClock(new Date('2026-01-05T00:10:00.000Z'));
      const followUps = new OrderFollowUpService(store, clock);
      const reconciled = jest.spyOn(followUps, 'reconcile');
      const pass = new OrderRepairPass(store, followUps, clock);
      // A process starting on this log: only the pairs still owed something are reconciled.
      const report = await pass.runOnce();
      expect(report.watching).toBe(2 * ORDERS - withdrawn.length);
      expect(report.checked).toBe(2 * ORDERS - withdrawn.length);
      expect(reconciled.mock.calls.map(([, caseId]) => caseId)).not.toEqual(expect.arrayContaining([withdrawn[0]]));
    } finally {
      await store.close();
    }
  }, 60_000);
});
