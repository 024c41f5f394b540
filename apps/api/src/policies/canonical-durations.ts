import { DURATION_POLICY_NAMES, formatDuration, parseDuration } from '@aftersales/domain';

/**
 * The policy's durations in their one canonical form (whole days, then the
 * time part: `PT48H` is `P2D`), as eligibility shows them, so a value reads
 * the same on every route however it was written. Other fields pass as they are.
 */
export function canonicalDurations<T extends object>(values: T): T {
  const canonical = { ...values } as Record<string, unknown>;
  for (const name of DURATION_POLICY_NAMES) {
    const value = canonical[name];
    const ms = typeof value === 'string' ? parseDuration(value) : undefined;
    if (ms !== undefined) canonical[name] = formatDuration(ms);
  }
  return canonical as T;
}
