import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { foldOrder, orderStream, refundLedger, type OrderEvent } from '@aftersales/domain';
import { SqliteEventStore } from '@aftersales/event-store';
import { LocalRedisServer } from '@aftersales/scheduling';
import { Platform } from '../e2e/support/platform';
import { uniqueId } from '../e2e/support/orders';
import { eventually } from '../support/eventually';
import { startService, stopService, type StartedService } from '../e2e/support/service';

jest.setTimeout(120_000);

// ARCHITECTURE.md rule 3: at-least-once delivery, exactly-once effect. A
// merchant's answer sent at the very moment merchantResponse falls due races
// the auto-approval; whichever is decided first wins and the other does
// nothing. The answers are spread around each case's due time, densely near
// it, and a second worker process takes some of the deadline jobs, so that
// some races are between processes and not only inside one.

const root = resolve(__dirname, '..', '..');
const MERCHANT = 'm-race';
const AMOUNT = 20_000;
/** When each case's answer is sent, relative to its due time (ms): certain wins and losses at the ends, the race in between. */
const OFFSETS = [-1500, -200, -50, -20, -10, -5, -2, 0, 2, 4, 6, 8, 10, 15, 20, 30, 50, 100, 300, 1500];

interface Raced {
  caseId: string;
  orderId: string;
  dueAt: number;
  answer: 'approve' | 'reject';
  offset: number;
  status?: number;
}

describe('a merchant answering as merchantResponse falls due', () => {
  let dataDir: string;
  let redis: LocalRedisServer;
  let started: StartedService;
  let second: ChildProcess;
  let secondOutput = '';
  let p: Platform;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'aftersales-race-'));
    redis = await LocalRedisServer.start({ dir: join(dataDir, 'redis'), persistent: false });
    const env = {
      REDIS_URL: redis.url,
      // Long enough to open every case before the first falls due.
      POLICY_MERCHANT_RESPONSE: 'PT10S',
      SANDBOX_PAYMENT_SETTLE_MS: '100',
      WORKER_RECONCILE_INTERVAL_MS: '1000',
    };
    started = await startService(env, dataDir);
    second = spawn(process.execPath, ['-r', join(root, 'scripts', 'register-aliases.js'), join(root, 'dist', 'apps', 'worker', 'src', 'main.js')], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LOG_LEVEL: 'warn',
        SQLITE_PATH: join(dataDir, 'aftersales.db'),
        // Its sandbox payment centre settles the refunds it sends through the service's callback route.
        SANDBOX_CALLBACK_URL: started.service.baseUrl,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    second.stdout?.on('data', (chunk: Buffer) => (secondOutput += chunk.toString()));
    second.stderr?.on('data', (chunk: Buffer) => (secondOutput += chunk.toString()));
    p = new Platform(started.api);
  }, 90_000);

  afterAll(async () => {
    if (second && second.exitCode === null) {
      const exited = new Promise((r) => second.once('exit', r));
      second.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (second.exitCode === null) second.kill('SIGKILL');
    }
    await stopService(started);
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('each case ends with exactly one outcome, and money is reserved and paid at most once', async () => {
    const buyerId = uniqueId('b');
    const buyer = await p.buyer(buyerId);
    const merchant = await p.merchant(MERCHANT);
    // Shipped, never arrived, above the small-amount rule: the merchant must answer.
    const orders = await Promise.all(OFFSETS.map(() => p.order({ buyerId, merchantId: MERCHANT, businessLine: 'home', lines: [{ unitPrice: AMOUNT }] }, 'shipped')));
    const raced: Raced[] = await Promise.all(
      orders.map(async ({ orderId }, i) => {
        const kase = await p.mustOpenCase(buyer, { orderId, kind: 'refund_only', reason: 'not_received', lines: [{ lineId: 'L1', quantity: 1 }] });
        expect(kase.status).toBe('pending_merchant');
        const set = (await p.events(kase.caseId)).find((e) => e.type === 'DeadlineSet' && e.data.name === 'merchantResponse');
        return { caseId: kase.caseId, orderId, dueAt: Date.parse(set.data.dueAt), answer: i % 2 === 0 ? 'approve' : 'reject', offset: OFFSETS[i] };
      }),
    );
    const earliest = Math.min(...raced.map((r) => r.dueAt + r.offset));
    if (earliest - Date.now() < 200) throw new Error(`the first answer would be late by ${Date.now() - earliest} ms; raise POLICY_MERCHANT_RESPONSE`);

    // Each answer at its moment; the clock's own jobs fire at the due times meanwhile.
    await Promise.all(
      raced.map(async (r) => {
        await new Promise((wake) => setTimeout(wake, Math.max(0, r.dueAt + r.offset - Date.now())));
        const body = r.answer === 'reject' ? { reason: 'Tracking shows it delivered' } : {};
        r.status = (await p.act(r.caseId, r.answer, merchant, body)).status;
      }),
    );

    // Every agreed case is paid (the sandbox settles), every rejected one waits for the buyer.
    await Promise.all(
      raced.map((r) =>
        eventually(`${r.caseId} settled down`, async () => {
          const types = await p.eventTypes(r.caseId);
          const done = types.includes('MerchantRejected') || types.includes('RefundSettled');
          return done ? true : undefined;
        }),
      ),
    );
    // A moment more, for a second effect to show if there were one (a retried job, a reconciler pass).
    await new Promise((wake) => setTimeout(wake, 2500));

    const tally = { merchantWon: 0, clockWon: 0 };
    for (const r of raced) {
      const events = await p.events(r.caseId);
      const agreed = events.filter((e) => e.type === 'MerchantAgreed');
      const rejected = events.filter((e) => e.type === 'MerchantRejected');
      const issued = events.filter((e) => e.type === 'RefundIssued');
      const what = `${r.caseId} (${r.answer} at ${r.offset} ms, answered ${r.status}): ${events.map((e) => e.type).join(', ')}`;
      // Exactly one outcome, never both, never two.
      expect({ what, outcomes: agreed.length + rejected.length }).toEqual({ what, outcomes: 1 });

      const merchantWon = r.status === 200;
      if (!merchantWon) expect({ what, status: r.status }).toEqual({ what, status: 409 });
      if (merchantWon) tally.merchantWon += 1;
      else tally.clockWon += 1;
      if (merchantWon && r.answer === 'reject') {
        expect({ what, rejected: rejected.length, issued: issued.length }).toEqual({ what, rejected: 1, issued: 0 });
      } else {
        // Agreed, by the merchant's approval or by the clock, whichever came first: never both.
        expect({ what, auto: agreed[0]?.data.auto === true }).toEqual({ what, auto: !merchantWon });
        expect({ what, actor: agreed[0]?.metadata.actor.role }).toEqual({ what, actor: merchantWon ? 'merchant' : 'system' });
        expect({ what, issued: issued.length, settled: events.filter((e) => e.type === 'RefundSettled').length }).toEqual({ what, issued: 1, settled: 1 });
      }
    }

    // The order streams, read from the SQLite file: each order reserved money for its case at most once,
    // settled it once for an agreed case, and never settled it for a rejected one. A deadline that lost
    // its race after reserving (its case append refused) released that reservation itself, before it
    // returned, not the repair pass (its next run is 30 s after start): nothing is left reserved now
    // (docs/decisions.md, "Money", rule 7).
    const store = new SqliteEventStore({ path: join(dataDir, 'aftersales.db') });
    try {
      for (const r of raced) {
        const rejected = (await p.eventTypes(r.caseId)).includes('MerchantRejected');
        const orderEvents = await store.readStream(orderStream(r.orderId));
        const ledger = refundLedger(foldOrder(orderEvents.map((e) => ({ type: e.type, data: e.data }) as OrderEvent)));
        const orderTypes = orderEvents.map((e) => e.type);
        const count = (type: string) => orderTypes.filter((t) => t === type).length;
        const what = `${r.orderId} of ${r.caseId} (${r.answer} at ${r.offset} ms, answered ${r.status}): ${orderTypes.join(', ')}`;
        expect({ what, reserved: ledger.reserved }).toEqual({ what, reserved: 0 });
        expect({ what, reservedAtMostOnce: count('RefundReserved') <= 1 }).toEqual({ what, reservedAtMostOnce: true });
        expect({ what, refunded: ledger.refunded, settled: count('RefundReservationSettled') }).toEqual(
          rejected ? { what, refunded: 0, settled: 0 } : { what, refunded: AMOUNT, settled: 1 },
        );
        if (rejected) expect({ what, released: count('RefundReservationReleased') }).toEqual({ what, released: count('RefundReserved') });
      }
    } finally {
      await store.close();
    }
    // Both sides won somewhere, so the dense middle of OFFSETS really was a race.
    expect(tally.merchantWon).toBeGreaterThan(0);
    expect(tally.clockWon).toBeGreaterThan(0);
    expect(second.exitCode).toBeNull();
  });
});
