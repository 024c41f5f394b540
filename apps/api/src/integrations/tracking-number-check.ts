import { Injectable } from '@nestjs/common';
import { ParcelIndexBehindError, TrackingNumbers, type ParcelRegistration } from '@aftersales/application';
import type { Actor } from '@aftersales/domain';
import { CommandGateway } from '../cases/command-gateway';
import { ProblemException } from '../problem/problem';

/** 503 rather than a guess: the parcel index could not show every number registered before the request. */
export const parcelIndexBehind = (): ProblemException =>
  new ProblemException(503, 'Service Unavailable', 'The parcel index is catching up; retry shortly.', {}, { headers: { 'Retry-After': '5' } });

/**
 * The case routes that register a parcel ask this first: 422
 * `tracking_number_in_use` when another open case registered the number
 * first, as problem+json like any refusal.
 */
@Injectable()
export class TrackingNumberCheck {
  constructor(
    private readonly numbers: TrackingNumbers,
    private readonly gateway: CommandGateway,
  ) {}

  ensureFree(caseId: string, trackingNumber: string, actor: Actor, action: ParcelRegistration, ifMatch?: number): Promise<void> {
    return this.gateway.read('case', async () => {
      try {
        await this.numbers.ensureFree(caseId, trackingNumber, actor, action, ifMatch);
      } catch (error) {
        throw error instanceof ParcelIndexBehindError ? parcelIndexBehind() : error;
      }
    });
  }
}
