import { Inject, Injectable } from '@nestjs/common';
import { isOpened } from '@aftersales/domain';
import type { EventStore } from '@aftersales/event-store';
import { CommandRefusedError } from '../commands/errors';
import { loadCase } from '../events/streams';
import { EVENT_STORE } from '../infrastructure/tokens';
import { PARCEL_INDEX, type ParcelIndex } from './parcel-index';
import { ParcelIndexProjector } from './parcel-index.projector';

/** Refund ids are `<caseId>-r<n>` (n from the case stream's revision, from 0): the case is in the id. */
export const REFUND_ID_PATTERN = /^([A-Za-z0-9_-]{1,64})-r(0|[1-9][0-9]{0,8})$/;
/** How long a logistics callback waits for the parcel index to reach the writes acknowledged before it. */
export const PARCEL_INDEX_WAIT_MS = 5000;

export interface RefundTarget {
  caseId: string;
  refundId: string;
  /** Failed attempts the case has recorded for this refund. */
  attempts: number;
}

export interface ParcelTarget {
  caseId: string;
  /** The return parcel (shipped by the buyer or collected at a pickup), or the replacement sent to the buyer. */
  parcel: 'return' | 'replacement';
}

/** The parcel index did not reach the request's head position in time: answer 503 rather than a wrong 404. */
export class ParcelIndexBehindError extends Error {
  constructor(readonly position: number) {
    super(`the parcel index did not reach position ${position} within ${PARCEL_INDEX_WAIT_MS} ms`);
    this.name = 'ParcelIndexBehindError';
  }
}

const unknown = (what: string): CommandRefusedError => new CommandRefusedError({ type: 'NotFound', detail: what });

/** Finds the case an integration callback is about; an unknown one is a NotFound refusal (404). */
@Injectable()
export class CallbackTargets {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PARCEL_INDEX) private readonly index: ParcelIndex,
    private readonly projector: ParcelIndexProjector,
  ) {}

  /** The store's head now: a callback must find every parcel recorded up to it. */
  headPosition(): Promise<number> {
    return this.store.headPosition();
  }

  async refund(refundId: string): Promise<RefundTarget> {
    const match = REFUND_ID_PATTERN.exec(refundId);
    if (!match) throw unknown(`no refund ${refundId}`);
    const { state } = await loadCase(this.store, match[1]);
    const refund = isOpened(state) ? state.refunds.find((r) => r.refundId === refundId) : undefined;
    if (!refund) throw unknown(`no refund ${refundId}`);
    return { caseId: match[1], refundId, attempts: refund.attempts };
  }

  /**
   * The case whose parcel this is. The index may lag the writes acknowledged
   * before the request arrived: on a miss, or on a number bound to a case that
   * has ended (a later case may have taken it over since), wait until the
   * index has taken in everything up to `head` (read when the request
   * arrived) and look again. So a parcel an acknowledged write recorded is
   * never reported unknown, nor its scan given to the case that let it go.
   */
  async parcel(trackingNumber: string, head: number): Promise<ParcelTarget> {
    let binding = await this.index.binding(trackingNumber);
    if ((binding === undefined || !binding.open) && this.projector.checkpoint < head) {
      if (!(await this.projector.waitFor(head, PARCEL_INDEX_WAIT_MS))) {
        throw new ParcelIndexBehindError(head);
      }
      binding = await this.index.binding(trackingNumber);
    }
    const caseId = binding?.caseId;
    if (caseId === undefined) throw unknown(`no parcel ${trackingNumber}`);
    const { state } = await loadCase(this.store, caseId);
    if (!isOpened(state)) throw unknown(`no parcel ${trackingNumber}`);
    const replacement = state.replacementParcel?.trackingNumber === trackingNumber;
    const isReturn = state.returnParcel?.trackingNumber === trackingNumber || state.pickup?.trackingNumber === trackingNumber;
    return { caseId, parcel: replacement && !isReturn ? 'replacement' : 'return' };
  }
}
