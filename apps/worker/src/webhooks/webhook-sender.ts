import { signatureHeader } from '@aftersales/integrations';

/** How long a receiver may take to answer one delivery. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** What is read of a receiver's answer (kept, cut short, as the error of a refused send). */
const ANSWER_LIMIT_BYTES = 4096;
const DETAIL_LIMIT_CHARS = 300;
/** Statuses another attempt may get past: timeout, conflict, too early, too many requests (and every 5xx). */
const RETRYABLE_STATUSES = new Set([408, 409, 425, 429]);

export interface WebhookSend {
  url: string;
  secret: string;
  webhookId: string;
  eventId: string;
  /** The exact bytes signed and sent. */
  body: string;
  now: Date;
  timeoutMs?: number;
}

export type SendOutcome =
  | { kind: 'accepted'; status: number }
  /** `retryable`: another attempt may succeed (no answer, 5xx, 408/409/425/429); otherwise the receiver refused this request as such. */
  | { kind: 'failed'; retryable: boolean; error: string; retryAfterMs?: number };

/**
 * One signed POST of a delivery: `X-Signature` exactly as the integration
 * callbacks (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`),
 * `X-Webhook-Id`, `X-Event-Id` and `Idempotency-Key: <eventId>` for the
 * receiver to drop a repeat. Redirects are not followed (a POST's body would
 * be lost on the way). Never throws for what the receiver did; the secret
 * appears in no error.
 */
export async function sendWebhook(send: WebhookSend): Promise<SendOutcome> {
  const timeoutMs = send.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  let response: Response;
  let text: string;
  try {
    response = await fetch(send.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'aftersales-webhooks/1',
        'X-Signature': signatureHeader(send.secret, send.body, send.now),
        'X-Webhook-Id': send.webhookId,
        'X-Event-Id': send.eventId,
        'Idempotency-Key': send.eventId,
      },
      body: send.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await readSome(response);
  } catch (error) {
    return { kind: 'failed', retryable: true, error: `no answer: ${failureOf(error, timeoutMs)}` };
  }
  const { status } = response;
  if (status >= 200 && status < 300) return { kind: 'accepted', status };
  const detail = text.replace(/\s+/g, ' ').trim().slice(0, DETAIL_LIMIT_CHARS);
  const error = `answered ${status}${detail ? `: ${detail}` : ''}`;
  if (status >= 500 || RETRYABLE_STATUSES.has(status)) return { kind: 'failed', retryable: true, error, retryAfterMs: retryAfterMs(response, send.now) };
  return { kind: 'failed', retryable: false, error };
}

/** The start of the answer; the rest is dropped unread. */
async function readSome(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= ANSWER_LIMIT_BYTES) {
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Why no answer came, in a few words; read by shape, since fetch's errors may come from another realm. */
function failureOf(error: unknown, timeoutMs: number): string {
  const e = error as { name?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined;
  if (e?.name === 'TimeoutError') return `nothing within ${timeoutMs} ms`;
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  if (typeof e?.cause?.message === 'string' && e.cause.message) return e.cause.message;
  return typeof e?.message === 'string' ? e.message : String(error);
}

function retryAfterMs(response: Response, now: Date): number | undefined {
  const header = response.headers.get('retry-after')?.trim();
  if (!header) return undefined;
  if (/^[0-9]{1,9}$/.test(header)) return Number(header) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
