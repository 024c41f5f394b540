import type { Job, JobsOptions } from 'bullmq';
import { ProviderRejectedError, ProviderRetryableError } from '@aftersales/integrations';
import { waitAsProviderAsks } from '../../apps/worker/src/processors/provider-retry';

// The wait before a job's next try when a provider said how long to wait:
// at least what it asked, never shorter than the job's own step, never longer
// than the job's last step.

const job = (opts: JobsOptions, attemptsMade: number) => ({ opts: { ...opts }, attemptsMade }) as unknown as Job;
const busy = (retryAfterMs?: number) => new ProviderRetryableError('payments', 'payments answered 429', 429, retryAfterMs);
const REFUNDS: JobsOptions = { attempts: 6, backoff: { type: 'exponential', delay: 5000 } }; // steps 5, 10, 20, 40, 80 s

function waitAfter(opts: JobsOptions, attemptsMade: number, error: unknown): unknown {
  const j = job(opts, attemptsMade);
  waitAsProviderAsks(j, error);
  return j.opts.backoff;
}

describe('waitAsProviderAsks', () => {
  it('waits what the provider asked when it is longer than the step', () => {
    expect(waitAfter(REFUNDS, 0, busy(30_000))).toEqual({ type: 'fixed', delay: 30_000 });
    expect(waitAfter(REFUNDS, 2, busy(25_000))).toEqual({ type: 'fixed', delay: 25_000 });
  });

  it('keeps the job\'s own back-off when the provider asked for less, or said nothing, or refused', () => {
    expect(waitAfter(REFUNDS, 3, busy(1000))).toEqual(REFUNDS.backoff);
    expect(waitAfter(REFUNDS, 0, busy(undefined))).toEqual(REFUNDS.backoff);
    expect(waitAfter(REFUNDS, 0, new ProviderRejectedError('payments', 'refused', 400))).toEqual(REFUNDS.backoff);
    expect(waitAfter(REFUNDS, 0, new Error('store unavailable'))).toEqual(REFUNDS.backoff);
  });

  it('waits no longer than the back-off\'s last step', () => {
    expect(waitAfter(REFUNDS, 0, busy(3_600_000))).toEqual({ type: 'fixed', delay: 80_000 });
    expect(waitAfter({ attempts: 3, backoff: 2000 }, 0, busy(60_000))).toEqual(2000);
  });

  it('leaves a job with no retry left, a jittered or a custom back-off alone', () => {
    expect(waitAfter(REFUNDS, 5, busy(30_000))).toEqual(REFUNDS.backoff);
    const jittered: JobsOptions = { attempts: 6, backoff: { type: 'exponential', delay: 5000, jitter: 0.5 } };
    expect(waitAfter(jittered, 0, busy(30_000))).toEqual(jittered.backoff);
    const custom: JobsOptions = { attempts: 6, backoff: { type: 'provider', delay: 5000 } };
    expect(waitAfter(custom, 0, busy(30_000))).toEqual(custom.backoff);
  });
});
