import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@aftersales/config';
import { DEFAULT_POLICY, type CaseState, type OrderState } from '@aftersales/domain';
import { ACTORS, DAY, T0, World, buildHistoryCommand, historySetupArb, historyStepArb, orderSnapshot } from '@aftersales/domain/testing';
import { SqliteEventStore } from '@aftersales/event-store';
import { CommandRefusedError, ExecuteCaseCommand, ExecuteOrderCommand, PolicyService } from '@aftersales/application';
import { Clock } from '../../libs/application/src/commands/clock';
import { ExecuteCaseCommandHandler } from '../../libs/application/src/commands/execute-case-command.handler';
import { ExecuteOrderCommandHandler } from '../../libs/application/src/commands/execute-order-command.handler';
import { OrderFollowUpService } from '../../libs/application/src/commands/order-follow-up.service';
import { loadCase, loadOrder } from '../../libs/application/src/events/streams';

// The command path keeps the state each append leads to, so the next command
// on the stream reads nothing. That state is folded from the decision's own
// event objects rather than from the stored JSON; these random histories
// check it against both the pure domain model (World) and a fold of what was
// actually stored, read by a store with no cache.

class SteppedClock extends Clock {
  at = T0;
  now(): Date {
    return this.at;
  }
}

const origin = { actor: { role: 'system' as const, id: 'history' }, channel: 'api' as const, correlationId: 'history' };

describe('states kept by the command path', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aftersales-cached-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('equal the domain model after every step, and a fresh fold of the stored streams at the end', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(historySetupArb, fc.array(historyStepArb, { minLength: 10, maxLength: 40 }), async (setup, steps) => {
        run += 1;
        const path = join(dir, `history-${run}.db`);
        const store = new SqliteEventStore({ path });
        const clock = new SteppedClock();
        const config = loadConfig({});
        const cases = new ExecuteCaseCommandHandler(store, new PolicyService(config, store), new OrderFollowUpService(store, clock), clock);
        const orders = new ExecuteOrderCommandHandler(store, clock);
        try {
          const w = new World(T0, DEFAULT_POLICY);
          const snapshot = orderSnapshot({ buyerTrustScore: setup.trust, returnShippingInsured: setup.insured });
          const scene = [
            { type: 'register' as const, actor: ACTORS.integration, data: snapshot },
            ...(setup.stage !== 'placed' ? [{ type: 'mark-shipped' as const, actor: ACTORS.integration, data: { carrier: 'SF', trackingNumber: 'SF-OUT-1', shippedAt: new Date(T0.getTime() - 2 * DAY).toISOString() } }] : []),
            ...(setup.stage === 'delivered' ? [{ type: 'mark-delivered' as const, actor: ACTORS.integration, data: { deliveredAt: new Date(T0.getTime() - DAY).toISOString() } }] : []),
          ];
          for (const command of scene) {
            w.orderCommand(command);
            await orders.execute(new ExecuteOrderCommand('o1', command, origin));
          }

          for (const step of steps) {
            w.advance(step.advance);
            const { command, caseId } = buildHistoryCommand(w, step);
            clock.at = w.now;
            // A request for a case id that is already open is the same request again (its id comes
            // from the caller's Idempotency-Key): the command path answers with that case, appending nothing.
            const repeatedRequest = command.type === 'request' && w.state(caseId).status !== 'none';
            const expected = repeatedRequest ? { ok: true } : w.send(command, caseId);
            const outcome = await cases.execute(new ExecuteCaseCommand(caseId, command, origin)).then(
              () => 'accepted',
              (error: unknown) => {
                if (error instanceof CommandRefusedError) return 'refused';
                throw error;
              },
            );
            expect(outcome).toBe(expected.ok ? 'accepted' : 'refused');
            expect((await loadCase(store, caseId)).state).toEqual(w.state(caseId));
            expect((await loadOrder(store, 'o1')).state).toEqual(w.order);
          }

          const fresh = new SqliteEventStore({ path });
          try {
            const streams = new Set((await fresh.readAll({ maxCount: 10_000 })).map((e) => e.streamName));
            for (const stream of streams) {
              const id = stream.slice(stream.indexOf('-') + 1);
              if (stream.startsWith('order-')) {
                expect(await loadOrder(store, id)).toEqual<{ state: OrderState }>(expect.objectContaining(await loadOrder(fresh, id)));
              } else {
                expect(await loadCase(store, id)).toEqual<{ state: CaseState }>(expect.objectContaining(await loadCase(fresh, id)));
              }
            }
          } finally {
            await fresh.close();
          }
        } finally {
          await store.close();
        }
      }),
      { numRuns: 25 },
    );
  }, 60_000);
});
