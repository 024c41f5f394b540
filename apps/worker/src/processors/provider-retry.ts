import type { BackoffOptions, Job } from 'bullmq';
import { ProviderRetryableError } from '@aftersales/integrations';

/** The wait before each retry of a job under its own back-off: [after the 1st failed try, after the 2nd, ...]. */
function backoffSteps(backoff: number | BackoffOptions | undefined, attempts: number): number[] | undefined {
  const options: BackoffOptions | undefined = typeof backoff === 'number' ? { type: 'fixed', delay: backoff } : backoff;
  if (!options || (options.jitter ?? 0) > 0) return undefined;
  const delay = options.delay ?? 0;
  const retries = Math.max(0, attempts - 1);
  if (options.type === 'fixed') return Array.from({ length: retries }, () => delay);
  if (options.type === 'exponential') return Array.from({ length: retries }, (_, i) => Math.round(delay * 2 ** i));
  return undefined;
}

/**
 * When a provider answered 429 or 503 with Retry-After, makes the job's next
 * try wait at least that long instead of its own back-off: asking again
 * sooner only gets the same answer and adds to the load the provider asked
 * us to take off. Capped by the longest wait the job's back-off ever makes
 * (its last step), so a Retry-After of hours does not park a refund past
 * every try it has left; the tries themselves are counted as before. Only
 * fixed and exponential back-offs without jitter (the queues' own) have steps
 * to compare with: any other is left as it is.
 *
 * Called with the error just before the processor throws it. BullMQ
 * computes the retry's delay from the options of this same Job object
 * (Job.moveToFailed → shouldRetryJob) and never writes them back, so the
 * changed back-off holds for this one retry only; the next try reads the
 * job afresh from Redis.
 */
export function waitAsProviderAsks(job: Job, error: unknown): void {
  if (!(error instanceof ProviderRetryableError) || error.retryAfterMs === undefined) return;
  const attempts = job.opts.attempts ?? 1;
  if (job.attemptsMade + 1 >= attempts) return; // no retry left: nothing to wait for
  const steps = backoffSteps(job.opts.backoff, attempts);
  if (!steps || steps.length === 0) return;
  const own = steps[Math.min(job.attemptsMade, steps.length - 1)];
  const longest = Math.max(...steps);
  const wait = Math.min(Math.max(own, error.retryAfterMs), longest);
  if (wait !== own) job.opts.backoff = { type: 'fixed', delay: wait };
}
