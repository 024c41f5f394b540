interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: ErrorLike;
}

const asErrorLike = (value: unknown): ErrorLike | undefined => (typeof value === 'object' && value !== null ? (value as ErrorLike) : undefined);

/**
 * Why a request got no answer, in a few words: `no answer within <n> ms`, the
 * socket's error code (ECONNREFUSED, ECONNRESET, ...) or the message. Read by
 * shape, not instanceof: fetch's errors may come from another realm (Jest's).
 */
export function networkFailure(error: unknown, timeoutMs: number): string {
  const failure = asErrorLike(error);
  if (failure?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  if (failure?.name === 'AbortError') return 'the request was aborted';
  const cause = asErrorLike(failure?.cause);
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string' && cause.message) return cause.message;
  return typeof failure?.message === 'string' ? failure.message : String(error);
}
