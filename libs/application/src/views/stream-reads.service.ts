import { Inject, Injectable } from '@nestjs/common';
import { canSeeCase, caseStream, canSeeOrder, eligibility, type Actor, type Eligibility } from '@aftersales/domain';
import type { EventStore, StoredEvent } from '@aftersales/event-store';
import { Clock } from '../commands/clock';
import { CommandRefusedError } from '../commands/errors';
import { loadCase, loadOrder } from '../events/streams';
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
    return toCaseView(kase.state, kase.revision, caller, this.clock.now(), await this.policies.effectiveFor(kase.state.merchantId));
  }

  async caseEvents(caseId: string, caller: Actor): Promise<StoredEvent[]> {
    const kase = await loadCase(this.store, caseId);
    if (kase.state.status === 'none' || !canSeeCase(kase.state, caller)) throw notFound(`case ${caseId}`);
    return this.store.readStream(caseStream(caseId), { maxCount: kase.revision + 1 });
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
