import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { DAY, T0, World, after, buildHistoryCommand, historySetupArb, historyStepArb, orderSnapshot } from '@aftersales/domain/testing';
import type { EventStore } from '@aftersales/event-store';

/**
 * Case streams from the domain's random histories (every actor, refusals
 * dropped, timers and callbacks included), each world's cases renamed
 * `<prefix><k>-c<n>` and spread over three merchants and several buyers, appended
 * as the command path would: the events of each accepted command, with the
 * actor and time in their metadata. Returns how many events were appended.
 */
export async function appendRandomHistories(store: EventStore, worlds: number, seed: number, prefix = 'w'): Promise<number> {
  const samples = fc.sample(fc.tuple(historySetupArb, fc.array(historyStepArb, { minLength: 15, maxLength: 40 })), { numRuns: worlds, seed });
  let appended = 0;
  for (const [k, [setup, steps]] of samples.entries()) {
    const w = new World(T0);
    const snapshot = orderSnapshot({ buyerTrustScore: setup.trust, returnShippingInsured: setup.insured });
    if (setup.stage === 'delivered') w.delivered(snapshot);
    else if (setup.stage === 'shipped') w.register(snapshot).ship(after(-2 * DAY));
    else w.register(snapshot);
    for (const step of steps) {
      w.advance(step.advance);
      const { command, caseId } = buildHistoryCommand(w, step);
      if (command.type === 'request' && w.state(caseId).status !== 'none') continue;
      const before = w.events(caseId).length;
      if (!w.send(command, caseId).ok) continue;
      const id = `${prefix}${k}-${caseId}`;
      const added = w.events(caseId).slice(before).map((event) => ({
        id: randomUUID(),
        type: event.type,
        data:
          event.type === 'ReturnRequested'
            ? { ...event.data, caseId: id, orderId: `o-${prefix}${k}`, merchantId: `m${k % 3}`, buyerId: `u${k % 5}` }
            : event.data,
        metadata: {
          actor: { role: command.actor.role, id: command.actor.id },
          channel: command.actor.role === 'buyer' ? 'app' : 'web',
          occurredAt: event.metadata?.occurredAt,
        },
      }));
      if (added.length === 0) continue;
      await store.append(`aftersales-${id}`, added, { expectedRevision: 'any' });
      appended += added.length;
    }
  }
  return appended;
}
