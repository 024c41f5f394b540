import { signatureHeader } from '../signature';
import { networkFailure } from './network-failure';
import { ProviderRejectedError, ProviderRetryableError } from '../provider-errors';

/** How long one request to a provider may take, answer included, unless an adapter is told otherwise. */
export const DEFAULT_PROVIDER_TIMEOUT_MS = 10_000;
/** More than this from a provider is not an answer we can use. */
const ANSWER_LIMIT_BYTES = 64 * 1024;
/** How much of a refusal's body is kept for the error (it ends up in logs and events). */
const DETAIL_LIMIT_CHARS = 500;

/**
 * Statuses another attempt may get past: a timeout on their side (408), the
 * same idempotency key still being worked on (409; a provider that saw a
 * different body under one key would also answer 409, and retrying that is
 * bounded by the worker's attempts), too early (425), too many requests (429)
 * and the provider's own failures (5xx).
 */
const RETRYABLE_STATUSES = new Set([408, 409, 425, 429]);

export interface SignedPost {
  /** `payments`, `logistics` or `insurance`: named in errors. */
  provider: string;
  url: string;
  secret: string;
  idempotencyKey: string;
  /** Serialised once: these bytes are signed and sent. */
  body: unknown;
  timeoutMs: number;
  now: () => Date;
}

/** A 2xx answer: its status and body text (empty when there was none). */
export interface ProviderAnswer {
  status: number;
  text: string;
}

/**
 * One signed POST to a provider (API.md, "Outbound"): JSON body, signed like
 * the callbacks, `Idempotency-Key` so a repeat is recognised. Resolves with a
 * 2xx answer; anything else throws ProviderRetryableError or
 * ProviderRejectedError. Redirects are not followed: a POST's body would be
 * dropped on the way, and an endpoint that moved is a configuration matter.
 */
export async function postSigned(request: SignedPost): Promise<ProviderAnswer> {
  const { provider } = request;
  const body = Buffer.from(JSON.stringify(request.body), 'utf8');
  let response: Response;
  let text: string;
  try {
    response = await fetch(request.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        'Idempotency-Key': request.idempotencyKey,
        'X-Signature': signatureHeader(request.secret, body, request.now()),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(request.timeoutMs),
    });
    text = await readAnswer(response);
  } catch (error) {
    if (error instanceof AnswerTooLargeError) {
      throw new ProviderRetryableError(provider, `${provider} answered with more than ${ANSWER_LIMIT_BYTES} bytes`, error.status);
    }
    throw new ProviderRetryableError(provider, `${provider} did not answer: ${networkFailure(error, request.timeoutMs)}`, undefined, undefined, {
      cause: error,
    });
  }

  const { status } = response;
  if (status >= 200 && status < 300) return { status, text };
  const detail = text.slice(0, DETAIL_LIMIT_CHARS);
  if (status >= 500 || RETRYABLE_STATUSES.has(status)) {
    throw new ProviderRetryableError(provider, `${provider} answered ${status}${detail ? `: ${detail}` : ''}`, status, retryAfterMs(response, request.now()));
  }
  throw new ProviderRejectedError(provider, `${provider} refused the request with ${status}${detail ? `: ${detail}` : ''}`, status, detail || undefined);
}

/** The 2xx answer's JSON object, or an empty object for an empty answer when `emptyIsFine`; anything else is unreadable. */
export function answerObject(provider: string, answer: ProviderAnswer, emptyIsFine: boolean): Record<string, unknown> {
  if (answer.text.trim() === '') {
    if (emptyIsFine) return {};
    throw unreadable(provider, answer, 'an empty body');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.text);
  } catch {
    throw unreadable(provider, answer, 'a body that is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw unreadable(provider, answer, 'JSON that is not an object');
  return parsed as Record<string, unknown>;
}

/**
 * A 2xx we cannot read is retried, not taken as a refusal: the request may well
 * have been done, and asking again under the same idempotency key gets the
 * provider's stored answer, or the worker's last attempt gives up visibly.
 */
export function unreadable(provider: string, answer: ProviderAnswer, what: string): ProviderRetryableError {
  return new ProviderRetryableError(provider, `${provider} answered ${answer.status} with ${what}`, answer.status);
}

class AnswerTooLargeError extends Error {
  constructor(readonly status: number) {
    super('answer too large');
  }
}

async function readAnswer(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > ANSWER_LIMIT_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new AnswerTooLargeError(response.status);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Retry-After as seconds or an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
function retryAfterMs(response: Response, now: Date): number | undefined {
  const header = response.headers.get('retry-after')?.trim();
  if (!header) return undefined;
  if (/^[0-9]{1,9}$/.test(header)) return Number(header) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
