/**
 * Idempotency records (API.md, `Idempotency-Key`): the first response to a
 * key, kept so a retry gets it again instead of acting twice.
 */

/** Whose key it is and where it was used: a key means nothing outside its scope. */
export interface IdempotencyScope {
  /** The caller (`<role>:<sub>`) or the callback sender. */
  principal: string;
  method: string;
  /** The request path without its query. */
  path: string;
  key: string;
}

/** A response as it was sent, to be sent again. */
export interface RecordedResponse {
  status: number;
  /** The few headers a retry must see again (content type, ETag, Location). */
  headers: Record<string, string>;
  /** The body as it was sent (JSON text for the API's documents), or undefined for an empty one. */
  body: string | undefined;
}

export type IdempotencyClaim =
  /**
   * First use (or the previous holder's lease ran out): the caller runs the
   * request and then completes or releases. `resourceId` is a UUIDv7 drawn
   * with the first claim of this key and body, and kept by every later claim
   * of the same request, so a retry after a crash names what the first
   * attempt created (POST /v1/cases: its case) and converges on it.
   */
  | { outcome: 'started'; claimId: string; resourceId: string }
  /** Same key, same body, finished: send this again. */
  | { outcome: 'replay'; response: RecordedResponse }
  /** Same key, another body. */
  | { outcome: 'mismatch' }
  /** Same key, same body, and the first request has not finished yet. */
  | { outcome: 'in_progress' };

export interface IdempotencyStore {
  /** Claims the key for this request body, or says why not. Atomic across processes sharing the store. */
  begin(scope: IdempotencyScope, requestHash: string): Promise<IdempotencyClaim>;
  /** Records the response of a started request; does nothing if the claim is no longer held. */
  complete(scope: IdempotencyScope, claimId: string, response: RecordedResponse): Promise<void>;
  /** Gives the key up without a record (5xx, 429): a retry runs again. */
  release(scope: IdempotencyScope, claimId: string): Promise<void>;
  /** Deletes expired records; returns how many. */
  purgeExpired(): Promise<number>;
  close(): Promise<void>;
}

export const IDEMPOTENCY_STORE = Symbol('IDEMPOTENCY_STORE');

/** API.md: responses are kept at least 24 h. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;
/**
 * How long a started request holds its key. A process that died mid-request
 * leaves a claim behind; after this a retry may run instead of getting 409
 * forever. Far above any command's run time.
 */
export const IDEMPOTENCY_LEASE_MS = 60 * 1000;
