import { createHmac } from 'node:crypto';

/**
 * The v1 digest of a body (API.md, "Integration callbacks"): hex HMAC-SHA256
 * of `<t>.<raw body>` under the shared secret. Callbacks we receive and
 * requests we send are signed the same way, so this is the one place it lives.
 */
export function signatureDigest(secret: string, timestampSeconds: number, body: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.`).update(body).digest('hex');
}

/** Whole seconds since the epoch, the `t` of a signature. */
export const unixSeconds = (at: Date): number => Math.floor(at.getTime() / 1000);

/** `t=<unix seconds>,v1=<hex>`: the X-Signature header for these exact body bytes, signed at `now`. */
export function signatureHeader(secret: string, body: Buffer | string, now: Date): string {
  return signatureHeaderAt(secret, body, unixSeconds(now));
}

/** As `signatureHeader`, with the timestamp given in seconds. */
export function signatureHeaderAt(secret: string, body: Buffer | string, timestampSeconds: number): string {
  return `t=${timestampSeconds},v1=${signatureDigest(secret, timestampSeconds, body)}`;
}
