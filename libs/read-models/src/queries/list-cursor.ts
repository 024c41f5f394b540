import { createHash } from 'node:crypto';

/** A cursor that is malformed, or was issued for another caller's scope or other filters. */
export class InvalidCursorError extends Error {
  constructor() {
    super('must be a cursor returned by a previous page of this list');
    this.name = 'InvalidCursorError';
  }
}

/** Where a keyset page resumes: the last item's sort key and id. */
export interface ListPosition {
  key: string;
  id: string;
}

const SCOPE_DIGEST_LENGTH = 16;

/** A short digest of what a list was asked for (caller's scope and filters): a cursor is only good for that list. */
export function listScopeDigest(scope: unknown): string {
  return createHash('sha256').update(JSON.stringify(scope)).digest('base64url').slice(0, SCOPE_DIGEST_LENGTH);
}

/**
 * Opaque to clients: base64url of `<scope digest>|<sort key>|<id>`. Keyset
 * positions never move when rows are inserted, so a page never repeats or
 * skips an item that was there when the first page was read.
 */
export function encodeListCursor(scopeDigest: string, position: ListPosition): string {
  return Buffer.from(`${scopeDigest}|${position.key}|${position.id}`, 'utf8').toString('base64url');
}

/** The position a cursor names; InvalidCursorError, telling nothing more, when it is not one of this list's. */
export function decodeListCursor(cursor: string, scopeDigest: string): ListPosition {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const [digest, key, id, ...rest] = text.split('|');
  if (rest.length > 0 || digest !== scopeDigest || !key || !id) throw new InvalidCursorError();
  return { key, id };
}
