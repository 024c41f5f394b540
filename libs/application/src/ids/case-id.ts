import { timeOrderedUuid } from './time-ordered-uuid';

/**
 * The id of the case a `POST /v1/cases` opens. With an `Idempotency-Key`
 * it is the id the key's claim drew (`resourceId`), which every attempt of
 * the same request gets again, so a retry after a crash names the case the
 * first attempt opened and finds it instead of opening a second. Without a
 * key, a fresh id. Either way a UUIDv7, so new case streams sit together in
 * the store's stream index.
 */
export function caseIdFor(claimedId: string | undefined): string {
  return claimedId ?? timeOrderedUuid();
}
