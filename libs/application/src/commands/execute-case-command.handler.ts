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
import { OrderFollowUpService } from './order-follow-up.service';

/** A conflicting concurrent write is retried against fresh state this many times in all. */
export const MAX_ATTEMPTS = 6;

/** Refusals that answer before If-Match is compared (API.md's order: 403, 404, object-level 403, then 412). */
const ANSWERS_BEFORE_IF_MATCH = new Set(['RoleNotPermitted', 'NotFound', 'Forbidden']);

/**
 * One workflow: load the case and its order, decide, reserve on the order
 * stream, append to the case stream, then the order follow-ups. Both appends
 * carry expected revisions; a conflict retries the whole decision against
 * fresh state (never with If-Match: then the caller's view is stale: 412).
 */
@CommandHandler(ExecuteCaseCommand)
export class ExecuteCaseCommandHandler implements ICommandHandler<ExecuteCaseCommand, CaseCommandResult> {
  private readonly logger = new Logger(ExecuteCaseCommandHandler.name);
  private readonly orderLock = new KeyedLock();
  private readonly orderOfCase = new Map<string, string>();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly policies: PolicyService,
    private readonly followUps: OrderFollowUpService,
    private readonly clock: Clock,
  ) {}

  async execute({ caseId, command, origin, ifMatch }: ExecuteCaseCommand): Promise<CaseCommandResult> {
    let orphanedOn: string | undefined;
    try {
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
        const orderId = command.type === 'request' ? command.data.orderId : await this.orderOf(caseId);
        const outcome = await this.orderLock.run(orderId, () => this.attempt(caseId, command, origin, ifMatch, (orderId) => (orphanedOn = orderId)));
        if (outcome !== 'conflict') {
          if (orderId && outcome.appended) this.rememberOrderOf(caseId, orderId);
          return outcome;
        }
        // Spread the retries of writers in other processes apart.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 ** attempt));
      }
      throw new ConcurrentWriteError(caseStream(caseId), MAX_ATTEMPTS);
    } finally {
      // A reservation or hold made for a decision whose case append then lost
      // a race must not keep the order's money or lines.
      if (orphanedOn) await this.followUps.releaseOrphans(orphanedOn, caseId, origin).catch((error: Error) => this.logger.error(`orphan release failed for ${caseId}: ${error.message}`));
    }
  }

  /** A case's order never changes, so it is looked up once per process. */
  private async orderOf(caseId: string): Promise<string | undefined> {
    const known = this.orderOfCase.get(caseId);
    if (known) return known;
    const first = await this.store.readStream(caseStream(caseId), { maxCount: 1 });
    const orderId = (first[0]?.data as { orderId?: string } | undefined)?.orderId;
    if (orderId) this.rememberOrderOf(caseId, orderId);
    return orderId;
  }

  private rememberOrderOf(caseId: string, orderId: string): void {
    if (this.orderOfCase.size >= 100_000 && !this.orderOfCase.has(caseId)) this.orderOfCase.clear();
    this.orderOfCase.set(caseId, orderId);
  }

  /** One decision against fresh state; 'conflict' when an append lost a race and the caller should retry. */
  private async attempt(
    caseId: string,
    command: ExecuteCaseCommand['command'],
    origin: CommandOrigin,
    ifMatch: number | undefined,
    orphaned: (orderId: string) => void,
  ): Promise<CaseCommandResult | 'conflict'> {
    const now = this.clock.now();
    const kase = await loadCase(this.store, caseId);
    const orderId = command.type === 'request' ? command.data.orderId : kase.state.status === 'none' ? undefined : kase.state.orderId;
    const order: Loaded<OrderState> = orderId ? await loadOrder(this.store, orderId) : { state: initialOrderState, revision: -1, lastPosition: 0 };
    const merchantId = kase.state.status !== 'none' ? kase.state.merchantId : order.state.status !== 'none' ? order.state.merchantId : undefined;
    const policy = await this.policies.effectiveFor(merchantId);

    const decision = decideCase(kase.state, command, { now, policy, order: order.state, buyerFlagged: await buyerFlaggedFor(this.store, kase.state, order.state) });
    if (!decision.ok && ANSWERS_BEFORE_IF_MATCH.has(decision.refusal.type)) throw new CommandRefusedError(decision.refusal);
    if (ifMatch !== undefined && ifMatch !== kase.revision) throw new PreconditionFailedError(ifMatch, kase.revision);
    if (!decision.ok) throw new CommandRefusedError(decision.refusal);

    if (decision.events.length === 0) {
      return { state: kase.state, revision: kase.revision, position: kase.lastPosition, appended: false };
    }

    const stamped: RecordedCaseEvent[] = decision.events.map((e) => ({ ...e, metadata: { occurredAt: now.toISOString() } }));
    const after = foldCase(stamped, kase.state);
    const required = orderCommandsFor(kase.state, decision.events, after);
    let orderAppended = false;

    if (required.before.length > 0 && orderId) {
      const reserved = this.decideOnOrder(order.state, required.before, now);
      if (reserved.length > 0) {
        try {
          await appendToOrder(this.store, orderId, order, toNewEvents(reserved, origin, now));
          orderAppended = true;
        } catch (error) {
          if (error instanceof ConcurrencyError) return 'conflict';
          throw error;
        }
      }
    }

    let appended: Loaded<CaseState>;
    try {
      appended = await appendToCase(this.store, caseId, kase, caseEventsToAppend(decision.events, origin, now), after);
    } catch (error) {
      // The order now holds lines or money for a decision the case never recorded.
      if (orderAppended && orderId) orphaned(orderId);
      if (!(error instanceof ConcurrencyError)) throw error;
      if (ifMatch !== undefined) throw new PreconditionFailedError(ifMatch, typeof error.actual === 'number' ? error.actual : -1);
      return 'conflict';
    }

    if (orderId && required.after.length > 0) await this.followUps.apply(orderId, required.after, origin);
    return { state: appended.state, revision: appended.revision, position: appended.lastPosition, appended: true };
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
