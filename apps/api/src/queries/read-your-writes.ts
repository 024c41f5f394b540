import { Injectable } from '@nestjs/common';
import { ProjectionProgress } from '@aftersales/read-models';
import { ProblemException } from '../problem/problem';

/** API.md: a query with `minPosition` waits up to 5 s for its read models. */
export const MIN_POSITION_WAIT_MS = 5000;
const RETRY_AFTER_SECONDS = 1;

@Injectable()
export class ReadYourWrites {
  constructor(private readonly progress: ProjectionProgress) {}

  /** Returns once the projections have reached `minPosition` (at once without one); 503 with Retry-After after the wait. */
  async reach(projections: readonly string[], minPosition: number | undefined): Promise<void> {
    if (minPosition === undefined || minPosition === 0) return;
    if (await this.progress.waitFor(projections, minPosition, MIN_POSITION_WAIT_MS)) return;
    throw new ProblemException(
      503,
      'Service Unavailable',
      `The read models have not reached position ${minPosition} yet; retry after the number of seconds in Retry-After.`,
      {},
      { headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } },
    );
  }
}
