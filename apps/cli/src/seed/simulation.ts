import type { CommandBus } from '@nestjs/cqrs';
import {
  CommandRefusedError,
  ExecuteCaseCommand,
  ExecuteOrderCommand,
  toDomainEvent,
  type BuyerFlagsService,
  type CaseCommandResult,
  type CommandOrigin,
  type PolicyService,
} from '@aftersales/application';
import {
  evolveOrder,
  initialOrderState,
  orderStream,
  type Actor,
  type AfterSalesCase,
  type CaseCommand,
  type Channel,
  type OrderEvent,
  type OrderState,
  type Reason,
} from '@aftersales/domain';
import type { EventStore } from '@aftersales/event-store';
import { Agenda } from './agenda';
import { CasePlanner, DAY, HOUR, type CasePlan, type OrderPlan } from './case-plans';
import { castFor, type Buyer, type Cast } from './cast';
import { MoveChooser, commandFor, type PlannedMove } from './moves';
import type { Random } from './random';
import type { SimulatedClock } from './simulated-clock';

/** A case with more steps than this is left where it is: a safety net against a loop of desk work. */
const MAX_STEPS_PER_CASE = 60;
/** The share of requests made by the abusive buyers. */
const ABUSIVE_SHARE = 0.1;
/** The share of orders with a second case on another line, later. */
const SECOND_CASE_SHARE = 0.1;
/**
 * Happenings taken from the agenda at once and run side by side, each at its
 * own instant: they touch different orders (and so different cases), so
 * running them together decides exactly what running them one by one
 * would, and their appends share the store's fsyncs. Fixed, so a seed
 * replays the same way.
 */
const BATCH = 128;
/** How far down the agenda a batch looks for happenings on other orders. */
const LOOKAHEAD = 4 * BATCH;

type OrderCommandBody = ExecuteOrderCommand['command'];

/** What a buyer writes for each reason. */
const DESCRIPTIONS: Readonly<Record<Reason, string>> = {
  no_reason_7_days: 'no longer needed',
  changed_mind: 'ordered by mistake',
  not_as_described: 'colour and material differ from the listing',
  quality_defect: 'stopped working after a few days',
  damaged_in_transit: 'arrived broken, box crushed',
  wrong_item: 'received a different model',
  missing_item: 'one item missing from the parcel',
  not_received: 'tracking says delivered but nothing arrived',
  late_delivery: 'still not here long after the promised date',
  service_complaint: 'the shop was rude and did not answer',
  other: 'see the photos',
};

type Happening =
  | { type: 'order'; orderId: string; command: OrderCommandBody }
  | { type: 'request'; plan: CasePlan }
  | { type: 'move'; caseId: string; move: PlannedMove }
  | { type: 'flag'; buyer: Buyer };

/** One happening made ready: `run` sends its command (side by side with others), `settle` takes the answer in agenda order. */
interface Step {
  run: () => Promise<CaseCommandResult | undefined | void>;
  settle: (result: CaseCommandResult | undefined | void) => Promise<void>;
}

interface TrackedCase {
  state: AfterSalesCase;
  buyerFlagged: boolean;
  steps: number;
}

export interface SimulationParts {
  commandBus: CommandBus;
  policies: PolicyService;
  buyerFlags: BuyerFlagsService;
  store: EventStore;
  clock: SimulatedClock;
  random: Random;
}

export interface SimulationCounts {
  /** Requests sent (accepted or refused). */
  requested: number;
  /** Requests the domain accepted: cases opened. */
  opened: number;
  /** Case commands sent, requests included, and order commands. */
  commands: number;
  /** Commands the domain refused, by command type (a move no longer allowed when it came due). */
  refusals: Record<string, number>;
  /** Deadlines fired (`deadline-passed` accepted), by name. */
  deadlinesFired: Record<string, number>;
  buyersFlagged: number;
}

export interface SimulationProgress {
  /** Called after every request with what is done so far. */
  onRequest?: (counts: SimulationCounts, total: number) => void;
}

/**
 * A marketplace's after-sales history, played through the command bus in
 * simulated time: orders placed, shipped and delivered, buyers asking,
 * merchants, agents and arbitrators deciding, couriers and the payment
 * centre calling back, and deadlines firing at their due times, all from
 * one time-ordered agenda, so each stream's events are in time order.
 */
export class Simulation {
  readonly counts: SimulationCounts = { requested: 0, opened: 0, commands: 0, refusals: {}, deadlinesFired: {}, buyersFlagged: 0 };
  readonly cases = new Map<string, TrackedCase>();
  private readonly agenda = new Agenda<Happening>();
  private readonly cast: Cast;
  private readonly planner: CasePlanner;
  private readonly chooser: MoveChooser;
  private trackingNumbers = 0;

  constructor(
    private readonly parts: SimulationParts,
    private readonly options: { cases: number; start: number; end: number; runTag: string },
  ) {
    this.cast = castFor(options.cases, parts.random);
    this.planner = new CasePlanner(this.cast, parts.random, options.runTag);
    this.chooser = new MoveChooser(this.cast, parts.random);
  }

  async run(progress: SimulationProgress = {}): Promise<void> {
    this.plan();
    for (let batch = this.nextBatch(); batch.length > 0; batch = this.nextBatch()) {
      // Random draws happen in agenda order, before and after the commands, never while they run: the same seed, the same draws.
      const steps: Step[] = [];
      for (const { at, item } of batch) steps.push(await this.prepare(item, at));
      const outcomes = await Promise.all(steps.map((step, i) => this.parts.clock.at(batch[i].at, step.run)));
      for (let i = 0; i < steps.length; i += 1) await steps[i].settle(outcomes[i]);
      if (batch.some((b) => b.item.type === 'request')) progress.onRequest?.(this.counts, this.options.cases);
    }
  }

  /**
   * The next happenings, earliest first, one per order: a later one on an
   * order already taken waits for the next batch (with every later one on
   * that order), and the others go on. A buyer flag goes alone, and nothing
   * after it goes before it.
   */
  private nextBatch(): { at: number; item: Happening }[] {
    const batch: { at: number; item: Happening }[] = [];
    const waiting: { at: number; item: Happening }[] = [];
    const orders = new Set<string>();
    for (let looked = 0; batch.length < BATCH && looked < LOOKAHEAD; looked += 1) {
      const next = this.agenda.peek();
      if (!next) break;
      const order = this.orderOf(next.item);
      if (order === undefined) {
        if (batch.length === 0 && waiting.length === 0) batch.push(this.agenda.take()!);
        break;
      }
      if (orders.has(order)) waiting.push(this.agenda.take()!);
      else batch.push(this.agenda.take()!);
      orders.add(order);
    }
    for (const w of waiting) this.agenda.add(w.at, w.item);
    return batch;
  }

  /** The order a happening writes to; undefined for one that must run alone. */
  private orderOf(happening: Happening): string | undefined {
    switch (happening.type) {
      case 'order':
        return happening.orderId;
      case 'request':
        return happening.plan.order.snapshot.orderId;
      case 'move':
        return this.cases.get(happening.caseId)!.state.orderId;
      case 'flag':
        return undefined;
      default: {
        const unknown: never = happening;
        return unknown;
      }
    }
  }

  /** Every request of the run with its order's history, and the admin's review of the abusive buyers. */
  private plan(): void {
    const { cases, start, end } = this.options;
    const random = this.parts.random;
    // Requests come in over the whole period but for its last hours, so most cases get somewhere.
    const lastRequest = Math.max(start + HOUR, end - 6 * HOUR);
    let planned = 0;
    while (planned < cases) {
      // More requests lately than at first, as a growing shop has: it also leaves cases open at the end, as live ones are.
      const at = start + Math.floor((lastRequest - start) * Math.sqrt(random.next()));
      const first = this.planner.firstRequest(at, random.chance(ABUSIVE_SHARE));
      this.planOrder(first.order);
      this.agenda.add(first.at, { type: 'request', plan: first });
      planned += 1;
      if (planned < cases && random.chance(SECOND_CASE_SHARE)) {
        const second = this.planner.secondRequest(first, Math.min(lastRequest, at + random.int(DAY, 6 * DAY)));
        if (second) {
          this.agenda.add(second.at, { type: 'request', plan: second });
          planned += 1;
        }
      }
    }
    // An admin reviews the abusive buyers once their pattern shows: about half are flagged.
    for (const buyer of this.cast.abusiveBuyers) {
      if (random.chance(0.5)) this.agenda.add(start + Math.floor((end - start) * (0.4 + 0.4 * random.next())), { type: 'flag', buyer });
    }
  }

  private planOrder(order: OrderPlan): void {
    const { orderId } = order.snapshot;
    const integration: Actor = { role: 'integration', id: 'order-system' };
    this.agenda.add(order.placedAt, { type: 'order', orderId, command: { type: 'register', actor: integration, data: order.snapshot } });
    if (order.shippedAt !== undefined) {
      const shippedAt = new Date(order.shippedAt).toISOString();
      const data = { carrier: 'SF', trackingNumber: `SF${this.options.runTag}${orderId.slice(-6)}`, shippedAt };
      this.agenda.add(order.shippedAt, { type: 'order', orderId, command: { type: 'mark-shipped', actor: integration, data } });
    }
    if (order.deliveredAt !== undefined && order.deliveredAt <= this.options.end) {
      const deliveredAt = new Date(order.deliveredAt).toISOString();
      this.agenda.add(order.deliveredAt, { type: 'order', orderId, command: { type: 'mark-delivered', actor: integration, data: { deliveredAt } } });
    }
  }

  /** What a happening sends (drawn now) and what follows from the answer. */
  private async prepare(happening: Happening, at: number): Promise<Step> {
    switch (happening.type) {
      case 'order':
        return this.orderCommand(happening.orderId, happening.command, at);
      case 'request':
        return this.request(happening.plan, at);
      case 'move':
        return this.move(happening.caseId, happening.move, at);
      case 'flag':
        return this.flag(happening.buyer, at);
      default: {
        const unknown: never = happening;
        return unknown;
      }
    }
  }

  private orderCommand(orderId: string, command: OrderCommandBody, at: number): Step {
    const origin = this.origin(command.actor, 'api', at);
    return {
      run: async () => {
        this.counts.commands += 1;
        try {
          await this.parts.commandBus.execute(new ExecuteOrderCommand(orderId, command, origin));
        } catch (error) {
          if (!(error instanceof CommandRefusedError)) throw error;
          this.refused(command.type);
        }
      },
      settle: async () => undefined,
    };
  }

  private request(plan: CasePlan, at: number): Step {
    const line = this.cast.lines.find((l) => l.name === plan.order.snapshot.businessLine)!;
    const actor = plan.onBehalf ? this.parts.random.pick(line.agents) : plan.buyer.actor;
    const command: CaseCommand = {
      type: 'request',
      actor,
      data: {
        caseId: plan.caseId,
        orderId: plan.order.snapshot.orderId,
        kind: plan.kind,
        reason: plan.reason,
        description: DESCRIPTIONS[plan.reason],
        lines: plan.lines,
        ...(plan.requestedAmount !== undefined ? { requestedAmount: plan.requestedAmount } : {}),
        evidence: plan.reason === 'no_reason_7_days' || plan.reason === 'changed_mind' ? [] : [`https://img.example/${plan.caseId}/1.jpg`],
        channel: plan.channel,
        pickup: plan.pickup,
      },
    };
    const origin = this.origin(actor, plan.channel, at);
    return {
      run: () => {
        this.counts.requested += 1;
        return this.send(plan.caseId, command, origin);
      },
      settle: async (result) => {
        if (!result || result.state.status === 'none') return;
        this.counts.opened += 1;
        const tracked: TrackedCase = { state: result.state, buyerFlagged: result.buyerFlagged, steps: 0 };
        this.cases.set(plan.caseId, tracked);
        await this.planNext(plan.caseId, tracked, at);
      },
    };
  }

  private async move(caseId: string, move: PlannedMove, at: number): Promise<Step> {
    const tracked = this.cases.get(caseId)!;
    tracked.steps += 1;
    const now = new Date(at);
    const policy = await this.parts.policies.effectiveFor(tracked.state.merchantId);
    const order = move.type === 'rule' ? await this.order(tracked.state.orderId) : undefined;
    const command = commandFor(move, tracked.state, { now, policy, random: this.parts.random, order, trackingNumber: () => this.trackingNumber() });
    const origin = command && this.origin(move.actor, channelOf(move.actor, this.parts.random), at);
    return {
      run: async () => (command && origin ? this.send(caseId, command, origin) : undefined),
      settle: async (result) => {
        if (command && result && result.state.status !== 'none') {
          tracked.state = result.state;
          tracked.buyerFlagged = result.buyerFlagged;
          if (command.type === 'deadline-passed' && result.appended) {
            this.counts.deadlinesFired[command.data.name] = (this.counts.deadlinesFired[command.data.name] ?? 0) + 1;
          }
        }
        if (tracked.steps < MAX_STEPS_PER_CASE) await this.planNext(caseId, tracked, at);
      },
    };
  }

  private flag(buyer: Buyer, at: number): Step {
    const admin = this.cast.admin;
    const origin = this.origin(admin, 'web', at);
    return {
      run: async () => {
        this.counts.commands += 1;
        const change = await this.parts.buyerFlags.flag(buyer.actor.id, 'many refund-only cases; payment account shared with other buyers', admin, origin, new Date(at));
        if (change.position !== undefined) this.counts.buyersFlagged += 1;
        return undefined;
      },
      settle: async () => undefined,
    };
  }

  private async planNext(caseId: string, tracked: TrackedCase, now: number): Promise<void> {
    const policy = await this.parts.policies.effectiveFor(tracked.state.merchantId);
    const next = this.chooser.next(tracked.state, now, this.options.end, policy, tracked.buyerFlagged);
    if (next) this.agenda.add(next.at, { type: 'move', caseId, move: next.move });
  }

  /** One case command through the command bus; a refusal is counted, not thrown. */
  private async send(caseId: string, command: CaseCommand, origin: CommandOrigin): Promise<CaseCommandResult | undefined> {
    this.counts.commands += 1;
    try {
      return await this.parts.commandBus.execute<ExecuteCaseCommand, CaseCommandResult>(new ExecuteCaseCommand(caseId, command, origin));
    } catch (error) {
      if (!(error instanceof CommandRefusedError)) throw error;
      this.refused(command.type);
      return undefined;
    }
  }

  private refused(type: string): void {
    this.counts.refusals[type] = (this.counts.refusals[type] ?? 0) + 1;
  }

  private origin(actor: Actor, channel: Channel, at: number): CommandOrigin {
    return { actor: { role: actor.role, id: actor.id }, channel, correlationId: this.parts.random.uuidAt(at) };
  }

  private trackingNumber(): string {
    this.trackingNumbers += 1;
    return `T${this.options.runTag}${String(this.trackingNumbers).padStart(7, '0')}`.toUpperCase();
  }

  /** The order as its stream has it now (for an arbitrator's ruling within what is refundable). */
  private async order(orderId: string): Promise<OrderState> {
    const events = await this.parts.store.readStream(orderStream(orderId));
    return events.reduce<OrderState>((state, stored) => evolveOrder(state, toDomainEvent<OrderEvent>(stored)), initialOrderState);
  }
}

/** The channel a party uses: buyers the app or the web, staff their consoles, systems the API. */
function channelOf(actor: Actor, random: Random): Channel {
  switch (actor.role) {
    case 'buyer':
      return random.chance(0.75) ? 'app' : 'web';
    case 'agent':
      return 'agent';
    case 'merchant':
    case 'arbitrator':
    case 'admin':
      return 'web';
    default:
      return 'api';
  }
}
