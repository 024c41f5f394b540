import { Inject, Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  caseStream,
  decideCase,
  decideOrder,
  evolveOrder,
  foldCase,
  initialOrderState,
  orderCommandsFor,
  type CaseEvent,
  type CaseState,
  type OrderCommand,
  type OrderEvent,
  type OrderState,
  type RecordedCaseEvent,
  type Refusal,
  orderForRetriedDecision,
  repairOrderForCase,
} from '@aftersales/domain';
import { ConcurrencyError, type EventStore } from '@aftersales/event-store';
import { toNewEvents, type CommandOrigin } from '../events/metadata';
import { appendToCase, appendToOrder, buyerFlaggedFor, loadCase, loadOrder, type Loaded } from '../events/streams';
import { EVENT_STORE } from '../infrastructure/tokens';
import { PolicyService } from '../policy/policy.service';
import { ExecuteCaseCommand, type CaseCommandResult } from './case-commands';
import { Clock } from './clock';
import { CommandRefusedError, ConcurrentWriteError, PreconditionFailedError } from './errors';
import { KeyedLock } from './keyed-lock';
import { OrderFollowUpService, decideFollowUps } from './order-follow-up.service';

/** A conflicting concurrent write is retried against fresh state this many times in all. */
export const MAX_ATTEMPTS = 6;

/** Refusals that answer before If-Match is compared (API.md's order: 403, 404, object-level 403, then 412). */
const ANSWERS_BEFORE_IF_MATCH = new Set(['RoleNotPermitted', 'NotFound', 'Forbidden']);

/** Waits between attempts after a lost race; injectable so a simulation can order the processes itself. */
export type RetryPause = (attempt: number) => Promise<void>;

/** Spreads the retries of writers in other processes apart. */
const jitteredPause: RetryPause = (attempt) => new Promise((resolve) => setTimeout(resolve, Math.random() * 2 ** attempt));

/**
 * One workflow: load the case and its order, decide, hold or reserve on the
 * order stream, append to the case stream, then bring the order in line with
 * the case. Both appends carry expected revisions; a conflict decides again
 * against fresh state (never with If-Match: then the caller's view is stale:
 * 412). Why no interleaving of processes, and no crash between the two
 * appends, pays out more than was paid: docs/decisions.md, *Money*.
 */
@CommandHandler(ExecuteCaseCommand)
export class ExecuteCaseCommandHandler implements ICommandHandler<ExecuteCaseCommand, CaseCommandResult> {
  private readonly logger = new Logger(ExecuteCaseCommandHandler.name);
  // Saves lost races between requests of this process; correctness never rests on it.
  private readonly orderLock = new KeyedLock();
  private readonly orderOfCase = new Map<string, string>();
  pause: RetryPause = jitteredPause;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly policies: PolicyService,
    private readonly followUps: OrderFollowUpService,
    private readonly clock: Clock,
  ) {}

  async execute({ caseId, command, origin, ifMatch }: ExecuteCaseCommand): Promise<CaseCommandResult> {
    let orderId: string | undefined;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      orderId = command.type === 'request' ? command.data.orderId : await this.orderOf(caseId);
      const outcome = await this.orderLock.run(orderId, () => this.attempt(caseId, command, origin, ifMatch));
      if (outcome === 'lost') {
        await this.pause(attempt);
        continue;
      }
      if (orderId && 'result' in outcome && outcome.result.appended) this.rememberOrderOf(caseId, orderId);
      if (orderId && outcome.orderOwesCase) await this.reconcile(orderId, caseId, origin);
      if ('refused' in outcome) throw outcome.refused;
      return outcome.result;
    }
    // What lost attempts held or reserved and no later attempt released: their case appends lost, so the case moved
    // past them and they can never be recorded. Rare enough to reconcile always.
    if (orderId) await this.reconcile(orderId, caseId, origin);
    throw new ConcurrentWriteError(caseStream(caseId), MAX_ATTEMPTS);
  }

  /**
   * The order follow-ups of what was just recorded (release lines, settle a
   * reservation, release what lost attempts left). Their failure does not
   * make the command fail: its events are recorded, and the repair pass
   * applies whatever is missed.
   */
  private async reconcile(orderId: string, caseId: string, origin: CommandOrigin): Promise<void> {
    try {
      await this.followUps.reconcile(orderId, caseId, origin);
    } catch (error) {
      this.logger.warn(`order follow-ups for ${caseId} left to the repair pass: ${(error as Error).message}`);
    }
  }

  /** A case's order never changes, so it is looked up once per process. */
  private async orderOf(caseId: string): Promise<string | undefined> {
    const known = this.orderOfCase.get(caseId);
    if (known) return known;
    // Folded through the cache the attempt reads next: a case this process has not seen yet is read from the store once, not twice.
    const kase = await loadCase(this.store, caseId);
    if (kase.state.status !== 'none') {
      this.rememberOrderOf(caseId, kase.state.orderId);
      return kase.state.orderId;
    }
    const first = await this.store.readStream(caseStream(caseId), { maxCount: 1 });
    const orderId = (first[0]?.data as { orderId?: string } | undefined)?.orderId;
    if (orderId) this.rememberOrderOf(caseId, orderId);
    return orderId;
  }

  private rememberOrderOf(caseId: string, orderId: string): void {
    if (this.orderOfCase.size >= 100_000 && !this.orderOfCase.has(caseId)) this.orderOfCase.clear();
    this.orderOfCase.set(caseId, orderId);
  }

  /** One decision against fresh state; 'lost' when an append lost a race and the caller should retry. */
  private async attempt(
    caseId: string,
    command: ExecuteCaseCommand['command'],
    origin: CommandOrigin,
    ifMatch: number | undefined,
  ): Promise<Attempted | Refused | 'lost'> {
    const now = this.clock.now();
    const kase = await loadCase(this.store, caseId);
    if (kase.state.status === 'none' && kase.revision >= 0) throw new CommandRefusedError(abandoned(command.type));
    if (origin.idempotencyKey && kase.recentKeys?.includes(`${origin.actor.role}:${origin.actor.id}:${origin.idempotencyKey}`)) {
      // This keyed request was recorded already (its events carry the key) and its idempotency
      // record was lost with a crash: answer with the case as it is rather than decide again.
      return { result: await this.unchanged(kase, await buyerFlaggedFor(this.store, kase.state, initialOrderState)), orderOwesCase: false };
    }
    if (command.type === 'request' && kase.state.status !== 'none' && kase.state.orderId === command.data.orderId) {
      // The same request again: its case id comes from the caller's Idempotency-Key, so a
      // retry after a crash finds what the first attempt recorded instead of opening another.
      return { result: await this.unchanged(kase, await buyerFlaggedFor(this.store, kase.state, initialOrderState)), orderOwesCase: false };
    }
    const orderId = command.type === 'request' ? command.data.orderId : kase.state.status === 'none' ? undefined : kase.state.orderId;
    const loadedOrder: Loaded<OrderState> = orderId ? await loadOrder(this.store, orderId) : { state: initialOrderState, revision: -1, lastPosition: 0 };
    // What earlier attempts on this case left on the order and can no longer be recorded is
    // released first, in the same append, so it neither blocks lines nor counts as this case's money.
    const repairs = decideFollowUps(loadedOrder.state, repairOrderForCase(loadedOrder.state, caseId, kase).commands, now);
    const order = repairs.reduce(evolveOrder, loadedOrder.state);
    const merchantId = kase.state.status !== 'none' ? kase.state.merchantId : order.status !== 'none' ? order.merchantId : undefined;
    const policy = await this.policies.effectiveFor(merchantId);

    // An answer that records nothing on the case still releases what the order owes it (typically what a lost race
    // reserved: a retry that now decides nothing new, or is refused, would otherwise leave it to the repair pass).
    // Not for a caller refused before If-Match (not allowed to see the case): it triggers no writes.
    const owed = repairs.length > 0;
    const refuse = (error: Error): Refused => {
      if (owed) return { refused: error, orderOwesCase: true };
      throw error;
    };

    const buyerFlagged = await buyerFlaggedFor(this.store, kase.state, order);
    const decision = decideCase(kase.state, command, { now, policy, order: orderForRetriedDecision(order, caseId, kase.revision), buyerFlagged });
    if (!decision.ok && ANSWERS_BEFORE_IF_MATCH.has(decision.refusal.type)) throw new CommandRefusedError(decision.refusal);
    if (ifMatch !== undefined && ifMatch !== kase.revision) return refuse(new PreconditionFailedError(ifMatch, kase.revision));
    if (!decision.ok) return refuse(new CommandRefusedError(decision.refusal));
    if (decision.events.length === 0) return { result: await this.unchanged(kase, buyerFlagged), orderOwesCase: owed };

    const stamped: RecordedCaseEvent[] = decision.events.map((e) => ({ ...e, metadata: { occurredAt: now.toISOString() } }));
    const after = foldCase(stamped, kase.state);
    const required = orderCommandsFor(kase.state, decision.events, after);

    let orderNow: OrderState = order;
    let leftOnOrder = false;
    if (required.before.length > 0 && orderId) {
      let held: OrderEvent[];
      try {
        held = this.decideOnOrder(order, required.before, now);
      } catch (error) {
        if (error instanceof CommandRefusedError) return refuse(error);
        throw error;
      }
      orderNow = held.reduce(evolveOrder, order);
      if (held.length > 0) {
        try {
          await appendToOrder(this.store, orderId, loadedOrder, toNewEvents([...repairs, ...held], origin, now));
          leftOnOrder = true;
        } catch (error) {
          if (error instanceof ConcurrencyError) return 'lost';
          throw error;
        }
      }
    }

    let appended: Loaded<CaseState>;
    try {
      appended = await appendToCase(this.store, caseId, kase, caseEventsToAppend(decision.events, origin, now), after);
    } catch (error) {
      // The case moved past the revision the order append held or reserved at, so that can never be recorded:
      // the retry (or, with If-Match, the reconciliation before the 412) releases it.
      if (!(error instanceof ConcurrencyError)) throw error;
      if (ifMatch !== undefined) {
        return { refused: new PreconditionFailedError(ifMatch, typeof error.actual === 'number' ? error.actual : -1), orderOwesCase: leftOnOrder || owed };
      }
      return 'lost';
    }
    return {
      result: { state: appended.state, revision: appended.revision, position: appended.lastPosition, appended: true, buyerFlagged },
      // Follow-ups (released lines, settled reservations, what lost attempts left) only when there are any.
      orderOwesCase: repairOrderForCase(orderNow, caseId, appended).commands.length > 0 || repairs.length > 0,
    };
  }

  /** An answer built on a read: it goes out only once what was read is on disk. */
  private async unchanged(kase: Loaded<CaseState>, buyerFlagged: boolean): Promise<CaseCommandResult> {
    await this.store.durable();
    return { state: kase.state, revision: kase.revision, position: kase.lastPosition, appended: false, buyerFlagged };
  }

  /** Order events for the `before` commands; a refusal (line held elsewhere, money already reserved) refuses the case command. */
  private decideOnOrder(state: OrderState, commands: readonly OrderCommand[], now: Date): OrderEvent[] {
    const events: OrderEvent[] = [];
    let current = state;
    for (const command of commands) {
      const decision = decideOrder(current, command, { now });
      if (!decision.ok) throw new CommandRefusedError(decision.refusal);
      for (const event of decision.events) current = evolveOrder(current, event);
      events.push(...decision.events);
    }
    return events;
  }
}

/** One attempt's answer, and whether the order now owes the case a follow-up. */
interface Attempted {
  result: CaseCommandResult;
  orderOwesCase: boolean;
}

/** A refusal (or 412) to answer once the order's follow-ups for the case are done. */
interface Refused {
  refused: Error;
  orderOwesCase: boolean;
}

/** A case stream the repair pass fenced (RequestAbandoned): it opens no case, now or later. */
function abandoned(action: string): Refusal {
  return action === 'request'
    ? { type: 'Conflict', reason: 'request_abandoned', detail: 'this request was abandoned after a failure and recorded nothing; send it again with a new Idempotency-Key' }
    : { type: 'NotFound', detail: 'unknown case' };
}

/** Auto-review decides for the platform: its approval and what follows it are the system's acts, not the buyer's. */
const AUTO_REVIEW_ACTOR = { role: 'system', id: 'auto-review' } as const;

function caseEventsToAppend(events: readonly CaseEvent[], origin: CommandOrigin, now: Date) {
  const autoReview = events.findIndex((e) => e.type === 'AutoReviewApproved');
  if (autoReview < 0) return toNewEvents(events, origin, now);
  return [
    ...toNewEvents(events.slice(0, autoReview), origin, now),
    ...toNewEvents(events.slice(autoReview), { ...origin, actor: AUTO_REVIEW_ACTOR, causationId: origin.causationId ?? origin.correlationId }, now),
  ];
}

export type { CommandOrigin };
