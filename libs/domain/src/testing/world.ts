import type { CaseCommand } from '../case/commands';
import type { CaseContext } from '../case/context';
import { decideCase } from '../case/decide';
import type { CaseEvent, RecordedCaseEvent } from '../case/events';
import { foldCase } from '../case/evolve';
import type { AfterSalesCase, CaseState } from '../case/state';
import { orderCommandsFor } from '../effects';
import type { OrderCommand } from '../order/commands';
import { decideOrder } from '../order/decide';
import type { OrderEvent, OrderSnapshot } from '../order/events';
import { evolveOrder, initialOrderState, type OrderState } from '../order/state';
import { DEFAULT_POLICY, type Policy } from '../policy';
import type { Decision } from '../refusal';
import { iso } from '../time';
import { orderAct } from './commands';
import { DAY, T0, after, integration, orderSnapshot } from './fixtures';

/**
 * One order and its cases, driven the way the application drives them:
 * decide the case command, append the order's `before` commands (a refusal
 * there refuses the whole command), the case events, then the `after` ones.
 */
export class World {
  order: OrderState = initialOrderState;
  readonly orderEvents: OrderEvent[] = [];
  private readonly caseEvents = new Map<string, RecordedCaseEvent[]>();
  // Each case's state as its last append left it: long generated histories would otherwise refold on every look.
  private readonly caseStates = new Map<string, CaseState>();
  buyerFlagged = false;

  constructor(
    public now: Date = T0,
    public policy: Policy = DEFAULT_POLICY,
  ) {}

  at(when: Date | string): this {
    this.now = typeof when === 'string' ? new Date(when) : when;
    return this;
  }

  advance(ms: number): this {
    this.now = after(ms, this.now);
    return this;
  }

  ctx(): CaseContext {
    return { now: this.now, policy: this.policy, order: this.order, buyerFlagged: this.buyerFlagged };
  }

  events(caseId = 'c1'): RecordedCaseEvent[] {
    return [...(this.caseEvents.get(caseId) ?? [])];
  }

  state(caseId = 'c1'): CaseState {
    return this.caseStates.get(caseId) ?? foldCase(this.events(caseId));
  }

  case(caseId = 'c1'): AfterSalesCase {
    const s = this.state(caseId);
    if (s.status === 'none') throw new Error(`no case ${caseId}`);
    return s;
  }

  caseIds(): string[] {
    return [...this.caseEvents.keys()];
  }

  orderCommand(command: OrderCommand): Decision<OrderEvent> {
    const decision = decideOrder(this.order, command, { now: this.now });
    if (decision.ok) {
      for (const e of decision.events) {
        this.orderEvents.push(e);
        this.order = evolveOrder(this.order, { ...e, metadata: { occurredAt: iso(this.now) } });
      }
    }
    return decision;
  }

  register(snapshot: OrderSnapshot = orderSnapshot()): this {
    this.must(this.orderCommand(orderAct('register', integration, snapshot)));
    return this;
  }

  ship(at: Date = after(DAY)): this {
    this.must(this.orderCommand(orderAct('mark-shipped', integration, { carrier: 'SF', trackingNumber: 'SF-OUT-1', shippedAt: iso(at) })));
    return this;
  }

  deliver(at: Date = after(2 * DAY)): this {
    this.must(this.orderCommand(orderAct('mark-delivered', integration, { deliveredAt: iso(at) })));
    return this;
  }

  /** Order o1 registered, shipped at T0 − 2 d and delivered at T0 − 1 d; now is T0. */
  delivered(snapshot?: OrderSnapshot): this {
    return this.register(snapshot).ship(after(-2 * DAY)).deliver(after(-DAY));
  }

  /** Runs a case command through decide and the order follow-ups; commits only if everything accepts. */
  send(command: CaseCommand, caseId = command.type === 'request' ? command.data.caseId : 'c1'): Decision<CaseEvent> {
    const history = this.events(caseId);
    const before = this.state(caseId);
    const decision = decideCase(before, command, this.ctx());
    if (!decision.ok) return decision;
    const stamped = decision.events.map((e) => ({ ...e, metadata: { occurredAt: iso(this.now) } }));
    const afterState = foldCase(stamped, before);
    const followUps = orderCommandsFor(before, decision.events, afterState);

    let order = this.order;
    const orderEvents: OrderEvent[] = [];
    for (const oc of followUps.before) {
      const d = decideOrder(order, oc, { now: this.now });
      if (!d.ok) return d;
      for (const e of d.events) {
        orderEvents.push(e);
        order = evolveOrder(order, { ...e, metadata: { occurredAt: iso(this.now) } });
      }
    }
    this.order = order;
    this.orderEvents.push(...orderEvents);
    this.caseEvents.set(caseId, [...history, ...stamped]);
    this.caseStates.set(caseId, afterState);
    for (const oc of followUps.after) {
      const d = this.orderCommand(oc);
      if (!d.ok) throw new Error(`order follow-up refused: ${JSON.stringify(d.refusal)} for ${JSON.stringify(oc)}`);
    }
    return decision;
  }

  /** Like send, for setting a scene: a refusal is a broken test. */
  run(...commands: CaseCommand[]): this {
    for (const command of commands) this.must(this.send(command));
    return this;
  }

  runOn(caseId: string, ...commands: CaseCommand[]): this {
    for (const command of commands) this.must(this.send(command, caseId));
    return this;
  }

  private must<E>(decision: Decision<E>): void {
    if (!decision.ok) throw new Error(`refused: ${JSON.stringify(decision.refusal)}`);
  }
}

