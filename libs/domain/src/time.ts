// Time arrives as arguments; these helpers only convert and compare it.

/** Milliseconds since the epoch of an ISO-8601 instant, or undefined when it is not one. */
export function instant(text: string): number | undefined {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The canonical form events store: UTC with milliseconds. */
export function iso(at: Date | number): string {
  return new Date(typeof at === 'number' ? at : at.getTime()).toISOString();
}

/** Re-writes any ISO-8601 instant in the canonical form; undefined when it is not one. */
export function canonicalInstant(text: string): string | undefined {
  const ms = instant(text);
  return ms === undefined ? undefined : iso(ms);
}

export function addMs(at: Date, ms: number): string {
  return iso(at.getTime() + ms);
}

export function sameInstant(a: string, b: string): boolean {
  const x = instant(a);
  return x !== undefined && x === instant(b);
}

/** Whole milliseconds from `since` to `now` (negative when `since` is later). */
export function elapsedMs(since: string, now: Date): number {
  const start = instant(since);
  return start === undefined ? Number.NaN : now.getTime() - start;
}
