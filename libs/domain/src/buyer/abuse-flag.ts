import type { BuyerFlagState } from './buyer-flag';

// When the abuse rule flags a buyer by itself (DOMAIN.md, "The three
// objects": the flag is set "by the abuse rule from the analytics"). The
// figures come from the abuse report; this decides only whether they call
// for a flag now and says why.

/** A buyer as the abuse report names it. */
export interface ReportedBuyer {
  /** One sentence per rule the buyer breaks, with the figures. */
  reasons: readonly string[];
}

/**
 * The reason to flag `state`'s buyer, or undefined to leave the flag alone.
 *
 * A flagged buyer needs nothing. A buyer whose flag an admin cleared (the
 * last change was a `BuyerUnflagged`) stays cleared until it got worse: a
 * clear covers every case requested before it, so only a case requested
 * after it (`casesSinceCleared`) lets the rule flag again. A buyer never
 * flagged is flagged as soon as the report names it.
 */
export function abuseFlagReason(state: BuyerFlagState, reported: ReportedBuyer, casesSinceCleared: number): string | undefined {
  if (state.flagged || reported.reasons.length === 0) return undefined;
  const cleared = state.since !== undefined;
  if (cleared && casesSinceCleared <= 0) return undefined;
  const rule = `abuse rule: ${reported.reasons.join('; ')}`;
  return cleared ? `${rule}; ${casesSinceCleared} ${casesSinceCleared === 1 ? 'case' : 'cases'} since the flag was cleared on ${state.since}` : rule;
}
