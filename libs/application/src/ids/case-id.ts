import { createHash } from 'node:crypto';
import { timeOrderedUuid } from './time-ordered-uuid';

/** Who opens the case: the verified caller's role and `sub`. */
export interface CaseOpener {
  role: string;
  id: string;
}

/**
 * The id of the case a `POST /v1/cases` opens. With an `Idempotency-Key` it
 * is derived from the caller and the key, so a retry whose first attempt's
 * record was lost (a crash, a lapsed lease) names the same case and finds
 * what that attempt wrote instead of opening a second one. Without a key it
 * is a fresh UUIDv7.
 */
export function caseIdFor(opener: CaseOpener, idempotencyKey: string | undefined): string {
  return idempotencyKey === undefined ? timeOrderedUuid() : keyedCaseId(opener, idempotencyKey);
}

/**
 * A UUID version 8 (RFC 9562, custom) made of the first 122 bits of
 * SHA-256 over the route, role, `sub` and key. The parts are JSON-encoded so
 * no two different tuples hash the same text (a `sub` may contain ':').
 */
export function keyedCaseId({ role, id }: CaseOpener, idempotencyKey: string): string {
  const bytes = createHash('sha256').update(JSON.stringify(['POST /v1/cases', role, id, idempotencyKey])).digest().subarray(0, 16);
  bytes[6] = 0x80 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
