/**
 * How hard a delivery is tried before it becomes a dead letter: `attempts`
 * sends in all, the n-th retry `baseDelayMs * 2^(n-1)` after the failure,
 * at most `maxDelayMs`; a receiver's Retry-After is honoured up to that cap.
 */
export interface WebhookRetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** 10 sends over about 8.5 minutes (1 s, 2 s, 4 s ... 256 s), then a dead letter. */
export const DEFAULT_WEBHOOK_RETRY: WebhookRetryPolicy = { attempts: 10, baseDelayMs: 1000, maxDelayMs: 300_000 };

/** The wait before the next send, after `failedAttempts` failures (≥ 1). */
export function webhookRetryDelayMs(policy: WebhookRetryPolicy, failedAttempts: number, retryAfterMs?: number): number {
  const backoff = Math.min(policy.baseDelayMs * 2 ** Math.max(0, failedAttempts - 1), policy.maxDelayMs);
  return retryAfterMs === undefined ? backoff : Math.min(Math.max(backoff, retryAfterMs), policy.maxDelayMs);
}
