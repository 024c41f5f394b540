import type { CaseCommand } from '../case/commands';
import type { CaseContext } from '../case/context';
import { decideCase } from '../case/decide';
import type { CaseEvent, RecordedCaseEvent } from '../case/events';
import { foldCase } from '../case/evolve';
import type { CaseState } from '../case/state';
import type { OrderCommand } from '../order/commands';
import { decideOrder } from '../order/decide';
import type { OrderEvent } from '../order/events';
import { foldOrder, type OrderState } from '../order/state';
import { DEFAULT_POLICY } from '../policy';
import type { Decision, Refusal } from '../refusal';
import { iso } from '../time';
import { T0 } from './fixtures';

/** A refusal by class (`'NotFound'`), by 422 rule, 403/409 reason, or by partial shape. */
export type RefusalMatch = string | Partial<Refusal>;

function expectRefused<E>(decision: Decision<E>, match: RefusalMatch): Refusal {
  if (decision.ok) throw new Error(`expected a refusal matching ${JSON.stringify(match)}, got events ${JSON.stringify(decision.events)}`);
  const r = decision.refusal;
  if (typeof match === 'string') {
    const names: (string | undefined)[] = [r.type, 'rule' in r ? r.rule : undefined, 'reason' in r ? r.reason : undefined];
    if (!names.includes(match)) throw new Error(`expected refusal ${match}, got ${JSON.stringify(r)}`);
  } else {
    expect(r).toMatchObject(match);
  }
  return r;
}

function expectEvents<E>(decision: Decision<E>, expected: readonly E[]): E[] {
  if (!decision.ok) throw new Error(`expected events, got refusal ${JSON.stringify(decision.refusal)}`);
  expect(decision.events).toEqual(expected);
  return decision.events;
}

const defaultOrder: OrderState = { status: 'none' };

/** given(history).when(command, ctx).then(events) — STYLE.md's shape for case rules. */
export function given(history: readonly RecordedCaseEvent[], baseCtx: Partial<CaseContext> = {}) {
  const state = foldCase(history);
  return {
    when(command: CaseCommand, ctx: Partial<CaseContext> = {}) {
      const context: CaseContext = { now: T0, policy: DEFAULT_POLICY, order: defaultOrder, ...baseCtx, ...ctx };
      const decision = decideCase(state, command, context);
      const next = (events: readonly CaseEvent[]): CaseState =>
        foldCase(events.map((e) => ({ ...e, metadata: { occurredAt: iso(context.now) } })), state);
      return {
        decision,
        /** Exactly these events, in this order; returns the state they lead to. */
        then(...expected: CaseEvent[]): CaseState {
          return next(expectEvents(decision, expected));
        },
        /** Only the event types, for rows whose payloads other specs pin down. */
        thenTypes(...types: CaseEvent['type'][]): CaseState {
          if (!decision.ok) throw new Error(`expected events, got refusal ${JSON.stringify(decision.refusal)}`);
          expect(decision.events.map((e) => e.type)).toEqual(types);
          return next(decision.events);
        },
        /** Accepted with nothing to record: an idempotent repeat or a stale timer. */
        thenNothing(): void {
          expectEvents(decision, []);
        },
        thenRefused(match: RefusalMatch): Refusal {
          return expectRefused(decision, match);
        },
      };
    },
  };
}

/** The same shape for the order stream. */
export function givenOrder(history: readonly OrderEvent[]) {
  const state = foldOrder(history);
  return {
    state,
    when(command: OrderCommand, now: Date = T0) {
      const decision = decideOrder(state, command, { now });
      return {
        decision,
        then(...expected: OrderEvent[]): OrderState {
          return foldOrder([...history, ...expectEvents(decision, expected)]);
        },
        thenNothing(): void {
          expectEvents(decision, []);
        },
        thenRefused(match: RefusalMatch): Refusal {
          return expectRefused(decision, match);
        },
      };
    },
  };
}
