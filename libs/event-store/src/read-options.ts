import type { ReadAllOptions, ReadStreamOptions, SubscribeToAllOptions } from './event-store';

// Bad read options are programming errors, not data the store refuses, so
// they raise RangeError rather than one of the store's typed errors.
function nonNegativeInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be an integer >= 0, got ${value}`);
  return value;
}

function positiveInteger(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be an integer >= 1, got ${value}`);
  return value;
}

export const readOptions = {
  stream(options: ReadStreamOptions): { fromRevision: number; maxCount: number | undefined } {
    return {
      fromRevision: nonNegativeInteger('fromRevision', options.fromRevision, 0),
      maxCount: positiveInteger('maxCount', options.maxCount),
    };
  },
  all(options: ReadAllOptions): { after: number; maxCount: number | undefined } {
    return {
      after: nonNegativeInteger('after', options.after, 0),
      maxCount: positiveInteger('maxCount', options.maxCount),
    };
  },
  subscription(options: SubscribeToAllOptions): { after: number; eventTypes: ReadonlySet<string> | undefined } {
    const after = nonNegativeInteger('after', options.after, 0);
    const types = options.eventTypes;
    if (types === undefined) return { after, eventTypes: undefined };
    if (!Array.isArray(types) || types.length === 0 || !types.every((type) => typeof type === 'string' && type.length > 0)) {
      throw new RangeError('eventTypes must be a non-empty array of non-empty strings');
    }
    return { after, eventTypes: new Set(types) };
  },
};
