/**
 * How one attempt at a provider ended when it did not succeed. The adapters
 * make one attempt and classify it; the worker decides whether and when to try
 * again, always with the same idempotency key.
 */
export abstract class ProviderError extends Error {
  constructor(
    /** Which provider and operation: `payments`, `logistics`, `insurance`. */
    readonly provider: string,
    message: string,
    /** The provider's HTTP status, when it answered. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Another attempt may succeed: the provider was unreachable or too slow, failed
 * on its side (5xx), asked us to slow down (429), is still working on the same
 * idempotency key (409), or answered something we could not read.
 */
export class ProviderRetryableError extends ProviderError {
  constructor(
    provider: string,
    message: string,
    status?: number,
    /** The provider's Retry-After, when it gave one. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(provider, message, status, options);
    this.name = 'ProviderRetryableError';
  }
}

/** The provider refused the request itself (a 4xx other than the retryable ones): the same request will never succeed. */
export class ProviderRejectedError extends ProviderError {
  constructor(
    provider: string,
    message: string,
    status?: number,
    /** What the provider said, as far as it is text, cut short. */
    readonly detail?: string,
  ) {
    super(provider, message, status);
    this.name = 'ProviderRejectedError';
  }
}
