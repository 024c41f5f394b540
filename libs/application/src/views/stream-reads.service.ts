import { Inject, Injectable } from '@nestjs/common';
import { canSeeCase, caseStream, canSeeOrder, eligibility, initialOrderState, type Actor, type AfterSalesCase, type Eligibility } from '@aftersales/domain';
import type { EventStore, StoredEvent } from '@aftersales/event-store';
import { Clock } from '../commands/clock';
import { CommandRefusedError } from '../commands/errors';
import { buyerFlaggedFor, loadCase, loadOrder } from '../events/streams';
import { EVENT_STORE } from '../infrastructure/tokens';
import { PolicyService } from '../policy/policy.service';
import { toCaseView, type CaseView } from './case-view';
import { toOrderView, type OrderView } from './order-view';

const notFound = (what: string) => new CommandRefusedError({ type: 'NotFound', detail: `${what} not found` });

/**
 * Reads that must reflect an acknowledged write at once come from the streams
 * (ARCHITECTURE.md rule 5), never from read models that may lag. A caller
 * who may not see the object gets the same answer as for one that does not
 * exist.
 */
@Injectable()
export class StreamReadsService {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly policies: PolicyService,
    private readonly clock: Clock,
  ) {}

  async caseView(caseId: string, caller: Actor): Promise<CaseView> {
    const kase = await loadCase(this.store, caseId);
    if (kase.state.status === 'none' || !canSeeCase(kase.state, caller)) throw notFound(`case ${caseId}`);
    const flagged = await buyerFlaggedFor(this.store, kase.state, initialOrderState);
    return toCaseView(kase.state, kase.revision, caller, this.clock.now(), await this.policies.effectiveFor(kase.state.merchantId), flagged);
  }

  /**
   * The case as its stream records it, or undefined when there is none: for
   * the system's own jobs, which check a refund or a pickup against the case
   * and need no view of it (no buyer flag, policy or allowed actions read
   * and worked out, as `caseView` does for a person).
   */
  async caseOnRecord(caseId: string): Promise<AfterSalesCase | undefined> {
    const kase = await loadCase(this.store, caseId);
    return kase.state.status === 'none' ? undefined : kase.state;
  }

  /**
   * One page of a case's stream: `maxCount` events from `fromRevision`, read
   * (and parsed) alone, so a long case costs no more per page than a short
   * one. `revision` is the stream's last revision as the check saw it.
   */
  async caseEvents(caseId: string, caller: Actor, page: { fromRevision: number; maxCount: number }): Promise<{ revision: number; events: StoredEvent[] }> {
    const kase = await loadCase(this.store, caseId);
    if (kase.state.status === 'none' || !canSeeCase(kase.state, caller)) throw notFound(`case ${caseId}`);
    // Never past the revision the visibility check saw: the page shows the case that was checked.
    const maxCount = Math.min(page.maxCount, kase.revision + 1 - page.fromRevision);
    const events = maxCount > 0 ? await this.store.readStream(caseStream(caseId), { fromRevision: page.fromRevision, maxCount }) : [];
    return { revision: kase.revision, events };
  }

  async orderView(orderId: string, caller: Actor): Promise<OrderView> {
    const order = await loadOrder(this.store, orderId);
    if (!canSeeOrder(order.state, caller)) throw notFound(`order ${orderId}`);
    return toOrderView(order.state, order.revision);
  }

  async eligibility(orderId: string, caller: Actor): Promise<Eligibility> {
    const order = await loadOrder(this.store, orderId);
    if (!canSeeOrder(order.state, caller)) throw notFound(`order ${orderId}`);
    return eligibility(order.state, this.clock.now(), await this.policies.effectiveFor(order.state.merchantId));
  }
}
