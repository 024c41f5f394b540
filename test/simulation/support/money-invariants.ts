import { evolveCase, inAgentPool, initialCaseState, type CaseState, type DeadlineName, type RecordedCaseEvent } from '@aftersales/domain';
import type { StoredEvent } from '@aftersales/event-store';

/** The deadline a `deadline-passed` attempt named. */
export interface DeadlineJob {
  caseId: string;
  name: DeadlineName;
  dueAt: string;
}

type Data = Record<string, unknown>;

/**
 * The refund, express and deadline rules one case's log must keep at every
 * moment (DOMAIN.md, *Money*, *Express refund*, *Deadlines and policy*).
 * Streams only grow and an append is read whole or not at all, so each
 * check reads on from where the last one stopped, one append at a time
 * (told apart by the correlation id each attempt gets).
 */
export class CaseLogCheck {
  private seen = 0;
  /** The case as it was before the next unread append. */
  private state: CaseState = initialCaseState;
  private readonly issued = new Set<string>();
  private readonly settled = new Set<string>();
  private readonly givenUp = new Set<string>();
  private readonly fired = new Set<string>();
  private expressGrants = 0;
  private agreed = 0;
  private refunds = 0;

  constructor(
    private readonly caseId: string,
    private readonly deadlineJobs: ReadonlyMap<string, DeadlineJob>,
  ) {}

  /** The first rule broken by the events not checked yet, described; undefined if none. */
  check(events: readonly StoredEvent[]): string | undefined {
    while (this.seen < events.length) {
      const correlationId = String(events[this.seen].metadata.correlationId ?? '');
      let end = this.seen + 1;
      while (end < events.length && String(events[end].metadata.correlationId ?? '') === correlationId) end += 1;
      const problem = this.checkAppend(correlationId, events.slice(this.seen, end)) ?? this.givenUpReachesAPerson();
      if (problem) return `case ${this.caseId}: ${problem}`;
      this.seen = end;
    }
    return undefined;
  }

  /** A refund given up for good and not settled since leaves its open case to a person: in the agent pool, or held by an agent. */
  private givenUpReachesAPerson(): string | undefined {
    const c = this.state;
    if (c.status === 'none' || c.status === 'completed' || c.status === 'closed') return undefined;
    const failed = c.refunds.filter((r) => r.status === 'failed');
    if (failed.length === 0 || c.assignee !== undefined || inAgentPool(c, false)) return undefined;
    return `${failed.map((r) => r.refundId).join(', ')} given up, yet the case (${c.status}) is neither in the agent pool nor held`;
  }

  private checkAppend(correlationId: string, events: readonly StoredEvent[]): string | undefined {
    const occurredAt = String(events[0].metadata.occurredAt ?? '');
    const job = this.deadlineJobs.get(correlationId);
    if (job) {
      // "If the party acted first, the timer does nothing": only the running deadline, once due, ever records.
      const running = this.state.status === 'none' ? undefined : this.state.deadlines[job.name];
      if (running === undefined || Date.parse(running) !== Date.parse(job.dueAt)) {
        return `${job.name} due ${job.dueAt} recorded ${events.map((e) => e.type).join(', ')} while the running one was ${String(running)}`;
      }
      if (Date.parse(occurredAt) < Date.parse(job.dueAt)) return `${job.name} due ${job.dueAt} fired early, at ${occurredAt}`;
      const key = `${job.name}@${Date.parse(job.dueAt)}`;
      if (this.fired.has(key)) return `${job.name} due ${job.dueAt} fired twice`;
      this.fired.add(key);
    }

    const received = events.some((e) => e.type === 'ReturnReceived');
    for (const event of events) {
      const problem = this.checkEvent(event.type, event.data as Data, events, received);
      if (problem) return problem;
      this.state = evolveCase(this.state, { type: event.type, data: event.data, metadata: { occurredAt } } as RecordedCaseEvent);
    }
    return undefined;
  }

  private checkEvent(type: string, data: Data, append: readonly StoredEvent[], received: boolean): string | undefined {
    if (type === 'MerchantAgreed' || type === 'AutoReviewApproved' || type === 'OfferAccepted') this.agreed = Math.max(this.agreed, data.amount as number);
    const refundId = data.refundId as string;
    switch (type) {
      case 'ExpressRefundGranted': {
        this.expressGrants += 1;
        if (this.expressGrants > 1) return `a second express refund (${refundId})`;
        const r = append.find((e) => e.type === 'RefundIssued')?.data as Data | undefined;
        if (!r || r.refundId !== refundId || r.amount !== data.amount || r.express !== true) {
          return `express refund ${refundId} of ${String(data.amount)} not issued as such in its append: ${JSON.stringify(r)}`;
        }
        return undefined;
      }
      case 'RefundIssued': {
        if (this.issued.has(refundId)) return `refund id ${refundId} issued twice`;
        const amount = data.amount as number;
        if (data.purpose === 'refund' && received && data.express !== true && amount > this.agreed - this.refunds) {
          // The receipt pays what express refunds left, never what they already covered.
          return `receipt refund ${refundId} of ${amount} on top of ${this.refunds} already issued, ${this.agreed} agreed`;
        }
        this.issued.add(refundId);
        if (data.purpose === 'refund') this.refunds += amount;
        return undefined;
      }
      case 'RefundSettled':
        if (!this.issued.has(refundId)) return `${refundId} settled but never issued`;
        if (this.settled.has(refundId)) return `${refundId} settled twice`;
        this.settled.add(refundId);
        return undefined;
      case 'RefundFailed':
        if (!this.issued.has(refundId)) return `${refundId} failed but never issued`;
        if (this.settled.has(refundId)) return `${refundId} failed after it settled`;
        if (this.givenUp.has(refundId)) return `${refundId} failed again after its final failure`;
        if (data.final === true) this.givenUp.add(refundId);
        return undefined;
      default:
        return undefined;
    }
  }
}

/**
 * A refund id names one reservation for ever, settled or released once, and
 * the order settles only what the case recorded as settled.
 */
export function checkOrderLog(events: readonly StoredEvent[], caseLogs: ReadonlyMap<string, readonly StoredEvent[]>): string | undefined {
  const reservedFor = new Map<string, string>();
  const ended = new Map<string, string>();
  for (const { type, data: raw } of events) {
    const data = raw as Data;
    const refundId = data.refundId as string;
    if (type === 'RefundReserved') {
      if (reservedFor.has(refundId)) return `order: refund id ${refundId} reserved twice`;
      reservedFor.set(refundId, data.caseId as string);
    } else if (type === 'RefundReservationSettled' || type === 'RefundReservationReleased') {
      if (!reservedFor.has(refundId)) return `order: ${type} for ${refundId}, never reserved`;
      const before = ended.get(refundId);
      if (before) return `order: ${type} for ${refundId} after ${before}`;
      ended.set(refundId, type);
      const caseLog = caseLogs.get(reservedFor.get(refundId) ?? '');
      if (type === 'RefundReservationSettled' && caseLog && !caseLog.some((e) => e.type === 'RefundSettled' && (e.data as Data).refundId === refundId)) {
        return `order: reservation ${refundId} settled, its case never recorded the refund settled`;
      }
    }
  }
  return undefined;
}
