import { InvalidEventError, InvalidStreamNameError } from './errors';
import type { ExpectedRevision, NewEvent } from './event-store';

// Category first so that the first '-' always splits category from id;
// `$` is refused so no caller can reach a store's system streams.
const STREAM_NAME = /^[a-z][A-Za-z0-9]{0,63}-[A-Za-z0-9_-]{1,128}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function validateStreamName(streamName: unknown): asserts streamName is string {
  if (typeof streamName !== 'string' || !STREAM_NAME.test(streamName)) {
    throw new InvalidStreamNameError(streamName);
  }
}

export function validateExpectedRevision(expected: unknown): asserts expected is ExpectedRevision {
  if (expected === 'no_stream' || expected === 'any' || expected === 'stream_exists') return;
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0) return;
  // A programming error rather than bad data, like a bad read option.
  throw new RangeError(`expectedRevision must be 'no_stream', 'any', 'stream_exists' or an integer >= 0, got ${String(expected)}`);
}

/** An event checked and turned into the JSON text both adapters store. */
export interface SerializedEvent {
  /** Lower-cased, so ids compare the way EventStoreDB returns them. */
  id: string;
  type: string;
  data: string;
  metadata: string;
}

/**
 * Checks a whole append before anything is queued or sent. Throws
 * `InvalidEventError` naming the first offending event.
 */
export function serializeEvents(events: unknown): SerializedEvent[] {
  if (!Array.isArray(events)) throw new InvalidEventError('events must be an array');
  if (events.length === 0) throw new InvalidEventError('an append needs at least one event');
  const seen = new Set<string>();
  const out: SerializedEvent[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as Partial<NewEvent> | null;
    if (typeof event !== 'object' || event === null) throw new InvalidEventError('not an object', i);
    const { id, type, data, metadata } = event;
    if (typeof id !== 'string' || !UUID.test(id)) throw new InvalidEventError('id must be a UUID', i);
    const lowerId = id.toLowerCase();
    if (seen.has(lowerId)) throw new InvalidEventError(`id ${lowerId} appears twice in this append`, i);
    seen.add(lowerId);
    if (typeof type !== 'string' || type.length === 0) throw new InvalidEventError('type must be a non-empty string', i);
    if (type.startsWith('$')) throw new InvalidEventError('types starting with $ are reserved for the store', i);
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      throw new InvalidEventError('metadata must be a JSON object', i);
    }
    out[i] = { id: lowerId, type, data: toJson(data, 'data', i), metadata: toJson(metadata, 'metadata', i) };
  }
  return out;
}

/**
 * JSON.stringify, minus its silent losses: a function, symbol, `undefined`
 * array item or non-finite number would otherwise vanish or turn into null,
 * and the stored event would differ from the one appended. `undefined`
 * object properties are dropped, as JSON has no such value.
 *
 * Plain JSON.stringify first (a replacer would take it off V8's fast path,
 * and this runs for every event), then a walk over the same value for what
 * it would have lost.
 */
function toJson(value: unknown, field: 'data' | 'metadata', index: number): string {
  if (value === undefined) throw new InvalidEventError(`${field} is undefined`, index);
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    // Circular structures and BigInt land here; a BigInt is named precisely.
    const lossy = lossyValueIn(value, '', false, MAX_WALK_DEPTH);
    throw new InvalidEventError(lossy ? `${field}: ${lossy}` : `${field} is not JSON-serialisable (${(error as Error).message})`, index);
  }
  const lossy = lossyValueIn(value, '', false, MAX_WALK_DEPTH);
  if (lossy) throw new InvalidEventError(`${field}: ${lossy}`, index);
  if (text === undefined) throw new InvalidEventError(`${field} is not JSON-serialisable`, index);
  return text;
}

/** Deeper than JSON.stringify itself would go before a RangeError; only reached for circular values. */
const MAX_WALK_DEPTH = 1_000;

/** What JSON.stringify would silently lose in `value` (a description), or undefined. */
function lossyValueIn(value: unknown, key: string, inArray: boolean, depth: number): string | undefined {
  switch (typeof value) {
    case 'function':
    case 'symbol':
      return `${describe(key)} is a ${typeof value}`;
    case 'bigint':
      return `${describe(key)} is a BigInt`;
    case 'number':
      return Number.isFinite(value) ? undefined : `${describe(key)} is ${value}`;
    case 'undefined':
      return inArray ? `${describe(key)} is undefined` : undefined;
    case 'object': {
      if (value === null || depth === 0) return undefined;
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return lossyValueIn(toJSON.call(value, key), key, inArray, depth - 1);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const found = lossyValueIn(value[i], String(i), true, depth - 1);
          if (found) return found;
        }
        return undefined;
      }
      for (const name in value) {
        if (!Object.prototype.hasOwnProperty.call(value, name)) continue;
        const found = lossyValueIn((value as Record<string, unknown>)[name], name, false, depth - 1);
        if (found) return found;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function describe(key: string): string {
  return key === '' ? 'the value' : `property ${JSON.stringify(key)}`;
}
