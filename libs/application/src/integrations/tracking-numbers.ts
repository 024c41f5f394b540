import { Inject, Injectable } from '@nestjs/common';
import { allowedActions, isOpened, type Actor } from '@aftersales/domain';
import type { EventStore } from '@aftersales/event-store';
import { Clock } from '../commands/clock';
import { CommandRefusedError } from '../commands/errors';
import { loadCase } from '../events/streams';
import { EVENT_STORE } from '../infrastructure/tokens';
import { PolicyService } from '../policy/policy.service';
import { ParcelIndexBehindError, PARCEL_INDEX_WAIT_MS } from './callback-targets';
import { PARCEL_INDEX, type ParcelIndex } from './parcel-index';
import { ParcelIndexProjector } from './parcel-index.projector';

/** The commands that register a parcel the carrier will report on, typed in by a person. */
export type ParcelRegistration = 'ship-return' | 'ship-replacement';

/**
 * Refuses a tracking number another open case registered first (422
 * `tracking_number_in_use`): logistics scans go to the case that has the
 * number, so a buyer typing someone else's parcel would otherwise take its
 * scans. Asked before the command runs, after the parcel index has taken in
 * every write acknowledged before the request (docs/decisions.md, *Callbacks
 * and buyer flags*, for the race this leaves).
 */
@Injectable()
export class TrackingNumbers {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PARCEL_INDEX) private readonly index: ParcelIndex,
    private readonly projector: ParcelIndexProjector,
    private readonly policies: PolicyService,
    private readonly clock: Clock,
  ) {}

  /** `ifMatch`: the command's If-Match, if any (a stale one answers 412 from the command, before any 422). */
  async ensureFree(caseId: string, trackingNumber: string, actor: Actor, action: ParcelRegistration, ifMatch?: number): Promise<void> {
    const head = await this.store.headPosition();
    if (!(await this.projector.waitFor(head, PARCEL_INDEX_WAIT_MS))) throw new ParcelIndexBehindError(head);
    const binding = await this.index.binding(trackingNumber);
    if (!binding?.open || binding.caseId === caseId) return;
    // API.md's order of checks: a case the caller may not see (404) or act on now (403, 409)
    // is answered by the command itself, so the 422 says nothing about other cases' parcels then.
    const { state, revision } = await loadCase(this.store, caseId);
    if (!isOpened(state) || (ifMatch !== undefined && ifMatch !== revision)) return;
    const policy = await this.policies.effectiveFor(state.merchantId);
    if (!allowedActions(state, actor, this.clock.now(), policy).includes(action)) return;
    throw new CommandRefusedError({
      type: 'BusinessRuleBroken',
      rule: 'tracking_number_in_use',
      detail: `tracking number ${trackingNumber} belongs to a parcel of another open case`,
    });
  }
}
