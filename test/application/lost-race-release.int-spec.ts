import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { loadConfig } from '@aftersales/config';
import { caseStream, orderStream, refundLedger, type Actor, type CaseCommand } from '@aftersales/domain';
import { SqliteEventStore } from '@aftersales/event-store';
import { CommandRefusedError, ConcurrentWriteError, ExecuteCaseCommand, type CaseCommandResult, ExecuteOrderCommand, PolicyService, PreconditionFailedError, type CommandOrigin } from '@aftersales/application';
import { ExecuteCaseCommandHandler, MAX_ATTEMPTS } from '../../libs/application/src/commands/execute-case-command.handler';
import { toNewEvents } from '../../libs/application/src/events/metadata';
import { ExecuteOrderCommandHandler } from '../../libs/application/src/commands/execute-order-command.handler';
import { OrderFollowUpService } from '../../libs/application/src/commands/order-follow-up.service';
import { loadOrder } from '../../libs/application/src/events/streams';
import { SimClock, foldCaseLog, orderSnapshot } from '../simulation/support/money-world';

// Two processes' command paths on one SQLite file (two store instances). One
// reserves a refund on the order, then its case append loses to the other's
// answer. Its retry records no refund for that reservation (or it runs out
// of attempts), so the command itself releases it before it answers: no
// repair pass runs in these tests.

const buyer: Actor = { role: 'buyer', id: 'u1' };
const merchant: Actor = { role: 'merchant', id: 'm1-staff', merchantId: 'm1' };
const clockActor: Actor = { role: 'system', id: 'deadlines' };
const orderSystem: Actor = { role: 'integration', id: 'order-system' };
const origin = (actor: Actor): CommandOrigin => ({ actor: { role: actor.role, id: actor.id }, channel: 'api', correlationId: 'test' });

describe('a command whose case append lost a race after it reserved money', () => {
  let dir: string;
  let clock: SimClock;
  let first: SqliteEventStore;
  let second: SqliteEventStore;
  /** The process that reserves and then loses the race. */
  let losing: ExecuteCaseCommandHandler;
  /** The process whose answer lands first. */
  let winning: ExecuteCaseCommandHandler;

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['error', 'warn', 'log']));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aftersales-lost-race-'));
    first = new SqliteEventStore({ path: join(dir, 'events.db') });
    second = new SqliteEventStore({ path: join(dir, 'events.db') });
    clock = new SimClock(new Date('2026-01-05T00:00:00.000Z'));
    const handler = (store: SqliteEventStore) => {
      const h = new ExecuteCaseCommandHandler(store, new PolicyService(loadConfig({}), store), new OrderFollowUpService(store, clock), clock);
      h.pause = async () => undefined;
      return h;
    };
    losing = handler(first);
    winning = handler(second);
    const orders = new ExecuteOrderCommandHandler(first, clock);
    const send = (command: ExecuteOrderCommand['command']) => orders.execute(new ExecuteOrderCommand('o1', command, origin(orderSystem)));
    await send({ type: 'register', actor: orderSystem, data: orderSnapshot('o1', 500) });
    await send({ type: 'mark-shipped', actor: orderSystem, data: { carrier: 'SF', trackingNumber: 'SF-1', shippedAt: '2026-01-02T00:00:00.000Z' } });
    await send({ type: 'mark-delivered', actor: orderSystem, data: { deliveredAt: '2026-01-04T00:00:00.000Z' } });
    // Above every automatic rule: the merchant must answer, or merchantResponse falls due.
    await winning.execute(
      new ExecuteCaseCommand(
        'c1',
        { type: 'request', actor: buyer, data: { caseId: 'c1', orderId: 'o1', kind: 'partial_refund', reason: 'quality_defect', lines: [{ lineId: 'L1', quantity: 1 }], requestedAmount: 6_000, channel: 'app', pickup: false } },
        origin(buyer),
      ),
    );
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await first.close();
    await second.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * The race as it happens between processes: the winner reads the case and
   * the order, the loser reserves on the order, the winner's case append
   * lands, then the loser's case append (expecting the same revision) is
   * refused. The winner read the order before the reservation, so nothing it
   * does afterwards releases it. Returns the loser's outcome.
   */
  async function race(won: CaseCommand, lost: ExecuteCaseCommand): Promise<PromiseSettledResult<CaseCommandResult>> {
    let loserAtCaseAppend!: () => void;
    const loserWaits = new Promise<void>((resolve) => (loserAtCaseAppend = resolve));
    let winnerAppended!: () => void;
    const winnerDone = new Promise<void>((resolve) => (winnerAppended = resolve));
    let loser: Promise<PromiseSettledResult<CaseCommandResult>> | undefined;

    const firstAppend = first.append.bind(first);
    let loserHeld = false;
    jest.spyOn(first, 'append').mockImplementation(async (stream, events, options) => {
      if (!loserHeld && stream === caseStream('c1')) {
        loserHeld = true;
        loserAtCaseAppend();
        await winnerDone;
      }
      return firstAppend(stream, events, options);
    });
    const secondAppend = second.append.bind(second);
    let winnerHeld = false;
    jest.spyOn(second, 'append').mockImplementation(async (stream, events, options) => {
      if (!winnerHeld && stream === caseStream('c1')) {
        winnerHeld = true;
        loser = losing.execute(lost).then(
          (value) => ({ status: 'fulfilled', value }) as const,
          (reason: unknown) => ({ status: 'rejected', reason }) as const,
        );
        await loserWaits;
        try {
          return await secondAppend(stream, events, options);
        } finally {
          winnerAppended();
        }
      }
      return secondAppend(stream, events, options);
    });

    await winning.execute(new ExecuteCaseCommand('c1', won, origin(won.actor)));
    if (!loser) throw new Error('the winner never appended to the case');
    return loser;
  }

  /** The order as another process reads it from the file, right after the command returned. */
  async function orderNow() {
    const order = (await loadOrder(second, 'o1')).state;
    if (order.status === 'none') throw new Error('no order');
    const types = (await second.readStream(orderStream('o1'))).map((e) => e.type);
    return { ledger: refundLedger(order), reserved: types.filter((t) => t === 'RefundReserved').length, released: types.filter((t) => t === 'RefundReservationReleased').length };
  }

  it('a deadline that reserved, then lost to the merchant rejecting, releases the reservation before it returns', async () => {
    const kase = (await caseNow()).kase;
    const dueAt = kase.status === 'none' ? undefined : kase.deadlines.merchantResponse;
    if (!dueAt) throw new Error('no merchantResponse deadline');
    clock.advanceTo(Date.parse(dueAt) + 1);
    const outcome = await race(
      { type: 'reject', actor: merchant, data: { reason: 'Tracking shows it delivered' } },
      new ExecuteCaseCommand('c1', { type: 'deadline-passed', actor: clockActor, data: { name: 'merchantResponse', dueAt } }, origin(clockActor)),
    );

    expect(outcome).toMatchObject({ status: 'fulfilled', value: { appended: false, state: { status: 'rejected' } } });
    const order = await orderNow();
    expect(order).toMatchObject({ reserved: 1, released: 1, ledger: { reserved: 0, refunded: 0 } });
  });

  it('an approval that reserved, then lost to another rejecting, releases the reservation before it is refused', async () => {
    const outcome = await race({ type: 'reject', actor: merchant, data: { reason: 'Tracking shows it delivered' } }, new ExecuteCaseCommand('c1', { type: 'approve', actor: merchant, data: {} }, origin(merchant)));

    expect(outcome.status === 'rejected' && outcome.reason).toBeInstanceOf(CommandRefusedError);

    expect(await orderNow()).toMatchObject({ reserved: 1, released: 1, ledger: { reserved: 0, refunded: 0 } });
  });

  it('an approval with If-Match that reserved, then lost to another rejecting, releases the reservation before its 412', async () => {
    const revision = (await caseNow()).revision;
    const outcome = await race({ type: 'reject', actor: merchant, data: { reason: 'Tracking shows it delivered' } }, new ExecuteCaseCommand('c1', { type: 'approve', actor: merchant, data: {} }, origin(merchant), revision));

    expect(outcome.status === 'rejected' && outcome.reason).toBeInstanceOf(PreconditionFailedError);

    expect(await orderNow()).toMatchObject({ reserved: 1, released: 1, ledger: { reserved: 0, refunded: 0 } });
  });

  it('a command that lost every attempt releases what its last attempt reserved before its 409', async () => {
    // Another writer moves the case (an urge, appended directly) right before each of the loser's case appends.
    const append = first.append.bind(first);
    jest.spyOn(first, 'append').mockImplementation(async (stream, events, options) => {
      if (stream === caseStream('c1')) {
        const urged = toNewEvents([{ type: 'CaseUrged', data: { waitingFor: 'merchant', priority: 1 } }], origin(buyer), clock.now());
        await second.append(caseStream('c1'), urged, { expectedRevision: 'any' });
      }
      return append(stream, events, options);
    });

    await expect(losing.execute(new ExecuteCaseCommand('c1', { type: 'approve', actor: merchant, data: {} }, origin(merchant)))).rejects.toBeInstanceOf(ConcurrentWriteError);

    const order = await orderNow();
    expect(order.reserved).toBe(MAX_ATTEMPTS);
    expect(order).toMatchObject({ released: MAX_ATTEMPTS, ledger: { reserved: 0, refunded: 0 } });
  });

  async function caseNow() {
    const events = await first.readStream(caseStream('c1'));
    return { kase: foldCaseLog(events), revision: events.length - 1 };
  }
});
