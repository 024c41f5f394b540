import { loadConfig } from '@aftersales/config';
import {
  caseStream,
  foldCase,
  evolveOrder,
  foldOrder,
  initialOrderState,
  orderStream,
  refundLedger,
  type Actor,
  type CaseCommand,
  type CaseState,
  type OrderEvent,
  type OrderSnapshot,
  type OrderState,
  type RecordedCaseEvent,
  SYSTEM_COMMAND_TYPES,
} from '@aftersales/domain';
import type { EventStore, StoredEvent } from '@aftersales/event-store';
import { CommandRefusedError, ExecuteCaseCommand, ExecuteOrderCommand, PolicyService, type CommandOrigin } from '@aftersales/application';
import { Clock } from '../../../libs/application/src/commands/clock';
import { ExecuteCaseCommandHandler } from '../../../libs/application/src/commands/execute-case-command.handler';
import { ExecuteOrderCommandHandler } from '../../../libs/application/src/commands/execute-order-command.handler';
import { OrderFollowUpService } from '../../../libs/application/src/commands/order-follow-up.service';
import { OrderRepairPass } from '../../../libs/application/src/repair/order-repair.pass';
import { FaultyStore, type FaultLog, type FaultPlan } from './faulty-store';
import { CaseLogCheck, checkOrderLog, type DeadlineJob } from './money-invariants';
import { Scheduler, SimProcess } from './scheduler';

export class SimClock extends Clock {
  constructor(public at: Date) {
    super();
  }
  now(): Date {
    return this.at;
  }
  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
  /** Time passes until `instant` (never backwards). */
  advanceTo(instant: number): void {
    if (instant > this.at.getTime()) this.at = new Date(instant);
  }
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
export const COMPENSATION_CAP = 10_000;

export const buyer: Actor = { role: 'buyer', id: 'u1' };
export const merchant: Actor = { role: 'merchant', id: 'm1-staff', merchantId: 'm1' };
export const agent: Actor = { role: 'agent', id: 'agent-1', businessLine: 'apparel', authorityLimit: 100_000 };
export const payments: Actor = { role: 'integration', id: 'payment-centre' };
const orderSystem: Actor = { role: 'integration', id: 'order-system' };
const origin = (actor: Actor, correlationId = 'sim'): CommandOrigin => ({ actor: { role: actor.role, id: actor.id }, channel: 'api', correlationId });

/** Paid 20,000: two lines of 10,000, no shipping. */
export function orderSnapshot(orderId: string, trust: number): OrderSnapshot {
  const line = (lineId: string) => ({
    lineId,
    sku: `SKU-${lineId}`,
    productId: `p-${lineId}`,
    title: lineId,
    category: 'tops',
    supplierId: 's-1',
    quantity: 1,
    unitPrice: 10_000,
    paidAmount: 10_000,
    noReasonReturn: true,
  });
  return {
    orderId,
    buyerId: buyer.id,
    merchantId: 'm1',
    currency: 'CNY',
    paidAmount: 20_000,
    shippingFee: 0,
    paymentMethod: 'card',
    paymentAccount: 'acct-1',
    buyerTrustScore: trust,
    returnShippingInsured: false,
    businessLine: 'apparel',
    placedAt: '2026-01-01T00:00:00.000Z',
    lines: [line('L1'), line('L2')],
  };
}

/** What a client asks for; `command` is built when it is sent (a settlement needs the refund id the case shows then). */
export interface Action {
  label: string;
  caseId: string;
  command: (world: MoneyWorld) => Promise<CaseCommand | undefined>;
}

export const foldCaseLog = (events: readonly StoredEvent[]): CaseState =>
  foldCase(events.map((e) => ({ type: e.type, data: e.data, metadata: { occurredAt: e.metadata.occurredAt as string } }) as RecordedCaseEvent));

/** A process of the service: its own store view (caches), handler (lock) and repair pass. */
interface ServiceProcess {
  process: SimProcess;
  cases: ExecuteCaseCommandHandler;
  repair: OrderRepairPass;
}

/**
 * One order, a few cases and several processes of the service sharing one
 * store, scheduled by a seed, faults injected by a plan, and the money
 * invariants of DOMAIN.md checked after every step.
 */
export class MoneyWorld {
  readonly clock = new SimClock(new Date('2026-01-05T00:00:00.000Z'));
  readonly scheduler: Scheduler;
  readonly faults: FaultLog[] = [];
  readonly caseIds: string[] = [];
  readonly outcomes: string[] = [];
  /** Which way each system command went (`deadline-passed merchantResponse: changed`), for the coverage report. */
  readonly paths = new Set<string>();
  /** The deadline each `deadline-passed` attempt named, by the correlation id its events carry. */
  readonly deadlineJobs = new Map<string, DeadlineJob>();
  private readonly caseLogChecks = new Map<string, CaseLogCheck>();
  private readonly orderFold: { seen: number; state: OrderState } = { seen: 0, state: initialOrderState };
  private readonly config = loadConfig({});
  private processCount = 0;
  private attempts = 0;

  constructor(
    /** The store each process uses, in turn (two SQLite instances on one file, or one model). */
    private readonly stores: EventStore[],
    readonly orderId: string,
    readonly random: () => number,
    private readonly plan: FaultPlan,
  ) {
    this.scheduler = new Scheduler(random);
  }

  get base(): EventStore {
    return this.stores[0];
  }

  async setUp(trust: number): Promise<void> {
    const orders = new ExecuteOrderCommandHandler(this.base, this.clock);
    const send = (command: ExecuteOrderCommand['command']) => orders.execute(new ExecuteOrderCommand(this.orderId, command, origin(orderSystem)));
    await send({ type: 'register', actor: orderSystem, data: orderSnapshot(this.orderId, trust) });
    await send({ type: 'mark-shipped', actor: orderSystem, data: { carrier: 'SF', trackingNumber: `SF-${this.orderId}`, shippedAt: '2026-01-02T00:00:00.000Z' } });
    await send({ type: 'mark-delivered', actor: orderSystem, data: { deliveredAt: '2026-01-04T00:00:00.000Z' } });
  }

  /** A fresh process: nothing of a crashed one's memory survives. */
  spawn(kind: string, faulty = true): ServiceProcess {
    const process = new SimProcess(`${kind}-${++this.processCount}`);
    const base = this.stores[this.processCount % this.stores.length];
    const store = new FaultyStore(base, process, this.scheduler, faulty ? this.plan : () => undefined, this.faults);
    const followUps = new OrderFollowUpService(store, this.clock);
    const cases = new ExecuteCaseCommandHandler(store, new PolicyService(this.config, store), followUps, this.clock);
    cases.pause = async () => undefined;
    const repair = new OrderRepairPass(store, followUps, this.clock);
    this.scheduler.add(process);
    return { process, cases, repair };
  }

  /** Sends one client action through a process; a refusal is an answer, a failure is retried by the client. */
  async send(service: ServiceProcess, action: Action): Promise<void> {
    const command = await action.command(this);
    if (!command) return;
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      // One correlation id per attempt: the invariants tell one append's events from the next by it.
      const correlationId = `sim-${++this.attempts}`;
      if (command.type === 'deadline-passed') this.deadlineJobs.set(correlationId, { caseId: action.caseId, ...command.data });
      try {
        const result = await service.cases.execute(new ExecuteCaseCommand(action.caseId, command, origin(command.actor, correlationId)));
        this.outcomes.push(`${action.label} [${command.type}]: ${result.appended ? 'ok' : 'ok, nothing new'}`);
        this.notePath(command, result.appended ? 'changed' : 'nothing new');
        return;
      } catch (error) {
        if (error instanceof CommandRefusedError) {
          this.outcomes.push(`${action.label} [${command.type}]: refused ${JSON.stringify(error.refusal)}`);
          const refusal = error.refusal;
          this.notePath(command, `refused (${refusal.type === 'BusinessRuleBroken' ? refusal.rule : refusal.type === 'Conflict' ? refusal.reason : refusal.type})`);
          return;
        }
        this.outcomes.push(`${action.label}: failed (${(error as Error).message})`);
      }
    }
  }

  private notePath(command: CaseCommand, how: string): void {
    if (!(SYSTEM_COMMAND_TYPES as readonly string[]).includes(command.type)) return;
    const detail =
      command.type === 'deadline-passed' ? ` ${command.data.name}` : command.type === 'refund-failed' ? (command.data.final ? ' final' : command.data.at ? ' (callback)' : ' (worker)') : '';
    this.paths.add(`${command.type}${detail}: ${how}`);
  }

  /**
   * Runs the actions on `clients` processes pulling from one queue, a
   * repair process beside them, crashed processes replaced by fresh ones
   * (a crashed client's action is sent again, as a client retries after a
   * timeout), and checks the invariants after every step.
   */
  async run(actions: Action[], clients: number, repairRuns: number): Promise<void> {
    const queue = [...actions];
    const inFlight = new Map<SimProcess, Action>();
    const startClient = () => {
      const service = this.spawn('client');
      void (async () => {
        for (let action = queue.shift(); action; action = queue.shift()) {
          inFlight.set(service.process, action);
          await this.send(service, action);
          inFlight.delete(service.process);
        }
        service.process.state = 'done';
      })();
    };
    let repairsLeft = repairRuns;
    const startRepair = () => {
      const service = this.spawn('repair');
      void (async () => {
        while (repairsLeft > 0) {
          repairsLeft -= 1;
          await service.repair.runOnce().catch(() => undefined);
        }
        service.process.state = 'done';
      })();
    };
    for (let i = 0; i < clients; i += 1) startClient();
    if (repairRuns > 0) startRepair();

    const replaced = new Set<SimProcess>();
    while (await this.scheduler.step()) {
      this.clock.advance(MINUTE);
      await this.checkInvariants();
      for (const crashed of this.crashedProcesses(replaced)) {
        replaced.add(crashed);
        const lost = inFlight.get(crashed);
        if (lost) queue.push(lost);
        if (crashed.name.startsWith('client')) startClient();
        else startRepair();
      }
      if (this.scheduler.steps > 5_000) throw new Error('the simulation did not finish in 5,000 steps');
    }
  }

  private crashedProcesses(replaced: Set<SimProcess>): SimProcess[] {
    return [...this.scheduler.processes].filter((p) => p.state === 'crashed' && !replaced.has(p));
  }

  /** After every crash and race: the repair pass, a day later, without faults, twice (a fence, then its release). */
  async repairToTheEnd(): Promise<void> {
    this.clock.advance(DAY);
    const service = this.spawn('final-repair', false);
    void (async () => {
      await service.repair.runOnce();
      await service.repair.runOnce();
      service.process.state = 'done';
    })();
    while (await this.scheduler.step()) await this.checkInvariants();
  }

  async order(): Promise<OrderState> {
    return foldOrder((await this.base.readStream(orderStream(this.orderId))).map((e) => ({ type: e.type, data: e.data }) as OrderEvent));
  }

  async caseEvents(caseId: string): Promise<StoredEvent[]> {
    return this.base.readStream(caseStream(caseId));
  }

  async caseState(caseId: string): Promise<CaseState> {
    return foldCaseLog(await this.caseEvents(caseId));
  }

  /** DOMAIN.md, *Money*, at any moment of any interleaving. */
  async checkInvariants(): Promise<void> {
    const orderEvents = await this.base.readStream(orderStream(this.orderId));
    // Checked after every step: fold only what the stream gained since (streams only grow).
    for (const e of orderEvents.slice(this.orderFold.seen)) this.orderFold.state = evolveOrder(this.orderFold.state, { type: e.type, data: e.data } as OrderEvent);
    this.orderFold.seen = orderEvents.length;
    const order = this.orderFold.state;
    if (order.status === 'none') return;
    // The order first, the cases after: a case read later is only further along.
    const caseLogs = new Map<string, StoredEvent[]>();
    for (const caseId of this.caseIds) caseLogs.set(caseId, await this.caseEvents(caseId));
    const orderProblem = checkOrderLog(orderEvents, caseLogs);
    if (orderProblem) this.fail(orderProblem);
    const ledger = refundLedger(order);
    if (ledger.reserved + ledger.refunded > ledger.paid) this.fail(`order pays out ${ledger.reserved + ledger.refunded} of ${ledger.paid} paid`);
    for (const line of order.lines) {
      if (line.reserved + line.refunded > line.paidAmount) this.fail(`line ${line.lineId} pays out ${line.reserved + line.refunded} of ${line.paidAmount}`);
    }
    for (const caseId of this.caseIds) {
      const events = caseLogs.get(caseId) ?? [];
      let logCheck = this.caseLogChecks.get(caseId);
      if (!logCheck) this.caseLogChecks.set(caseId, (logCheck = new CaseLogCheck(caseId, this.deadlineJobs)));
      const caseProblem = logCheck.check(events);
      if (caseProblem) this.fail(caseProblem);
      let agreed = 0;
      let refunds = 0;
      let payouts = 0;
      for (const { type, data } of events as { type: string; data: Record<string, unknown> }[]) {
        if (type === 'MerchantAgreed' || type === 'AutoReviewApproved' || type === 'OfferAccepted') agreed = Math.max(agreed, data.amount as number);
        if (type !== 'RefundIssued') continue;
        if (data.purpose === 'compensation') {
          payouts += data.amount as number;
          continue;
        }
        refunds += data.amount as number;
        const reservation = order.reservations[data.refundId as string];
        if (!reservation || reservation.status === 'released' || reservation.amount !== data.amount || reservation.caseId !== caseId) {
          this.fail(`case ${caseId} issued ${String(data.refundId)} (${String(data.amount)}) without a live reservation of that amount: ${JSON.stringify(reservation)}`);
        }
      }
      if (refunds > agreed) this.fail(`case ${caseId} issued ${refunds}, more than the ${agreed} agreed`);
      if (payouts > COMPENSATION_CAP) this.fail(`case ${caseId} paid out ${payouts}, above the cap of ${COMPENSATION_CAP}`);
    }
  }

  /** After the final repair: nothing held or reserved for a case that does not exist or has ended. */
  async checkRepaired(): Promise<void> {
    const order = await this.order();
    if (order.status === 'none') return;
    for (const caseId of new Set([...this.caseIds, ...Object.keys(order.holds)])) {
      const state = await this.caseState(caseId);
      const gone = state.status === 'none' || state.status === 'completed' || state.status === 'closed';
      if (!gone) continue;
      if (order.holds[caseId]?.active) this.fail(`lines still held for ${caseId} (${state.status})`);
      const reserved = Object.values(order.reservations).filter((r) => r.caseId === caseId && r.status === 'reserved');
      if (reserved.length > 0) this.fail(`money still reserved for ${caseId} (${state.status}): ${reserved.map((r) => r.refundId).join(', ')}`);
    }
  }

  private fail(message: string): never {
    throw new Error(`${message}\n  faults: ${JSON.stringify(this.faults)}\n  outcomes: ${this.outcomes.join('; ')}`);
  }
}

export const actions = {
  request(caseId: string, kind: 'refund_only' | 'partial_refund' | 'compensation' | 'return_and_refund', lines: string[], requestedAmount?: number, pickup = false): Action {
    const reason = kind === 'refund_only' ? 'not_received' : kind === 'compensation' ? 'service_complaint' : 'quality_defect';
    return {
      label: `request ${caseId} ${kind}`,
      caseId,
      command: async (world) => ({
        type: 'request',
        actor: buyer,
        data: { caseId, orderId: world.orderId, kind, reason, lines: lines.map((lineId) => ({ lineId, quantity: 1 })), requestedAmount, channel: 'app', pickup },
      }),
    };
  },
  approve: (caseId: string): Action => ({ label: `approve ${caseId}`, caseId, command: async () => ({ type: 'approve', actor: merchant, data: {} }) }),
  counterOffer: (caseId: string, amount: number): Action => ({ label: `counter-offer ${caseId} ${amount}`, caseId, command: async () => ({ type: 'counter-offer', actor: merchant, data: { amount } }) }),
  acceptOffer: (caseId: string): Action => ({ label: `accept-offer ${caseId}`, caseId, command: async () => ({ type: 'accept-offer', actor: buyer, data: {} }) }),
  withdraw: (caseId: string): Action => ({ label: `withdraw ${caseId}`, caseId, command: async () => ({ type: 'withdraw', actor: buyer, data: {} }) }),
  claim: (caseId: string): Action => ({ label: `claim ${caseId}`, caseId, command: async () => ({ type: 'claim', actor: agent, data: {} }) }),
  compensate: (caseId: string, amount: number): Action => ({
    label: `compensate ${caseId} ${amount}`,
    caseId,
    command: async () => ({ type: 'compensate', actor: agent, data: { amount, form: 'cash' } }),
  }),
  /** The payment centre settles the case's oldest pending refund. */
  settle: (caseId: string): Action => ({
    label: `settle ${caseId}`,
    caseId,
    command: async (world) => {
      const state = await world.caseState(caseId);
      const pending = state.status === 'none' ? undefined : state.refunds.find((r) => r.status === 'pending');
      return pending ? { type: 'refund-settled', actor: payments, data: { refundId: pending.refundId, at: world.clock.now().toISOString() } } : undefined;
    },
  }),
};
