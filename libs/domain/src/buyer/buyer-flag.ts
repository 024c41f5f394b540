import type { Actor } from '../kinds';
import { accept, assertNever, broken, refuse, type Decision } from '../refusal';

// The buyer flag (DOMAIN.md, "The three objects"): whether the platform
// distrusts a buyer. Admins set and clear it, the abuse rule sets it (as the
// system); the command path reads it where it decides express refunds and
// auto-review.

/** Part of the stored contract, like the order and case streams. */
export const buyerStream = (buyerId: string): string => `buyer-${buyerId}`;

/** By an admin, or by the abuse rule (actor `system`, id `abuse-watch`; the reason starts `abuse rule:` and gives the figures). */
export type BuyerFlagged = { type: 'BuyerFlagged'; data: { buyerId: string; reason: string } };
/** By an admin only; the abuse rule flags the buyer again only for a case requested after it. */
export type BuyerUnflagged = { type: 'BuyerUnflagged'; data: { buyerId: string; reason?: string } };
export type BuyerEvent = BuyerFlagged | BuyerUnflagged;

export type FlagBuyer = { type: 'flag-buyer'; actor: Actor; data: { buyerId: string; reason: string } };
export type UnflagBuyer = { type: 'unflag-buyer'; actor: Actor; data: { buyerId: string; reason?: string } };
export type BuyerCommand = FlagBuyer | UnflagBuyer;

export interface BuyerFlagState {
  flagged: boolean;
  /** Why the flag was last set or cleared (clearing may give none). */
  reason?: string;
  /** When the flag was last set or cleared; absent while it never was. */
  since?: string;
}

export const initialBuyerFlagState: BuyerFlagState = { flagged: false };

/** An event as folded: `occurredAt` from its metadata gives `since`. */
export type RecordedBuyerEvent = BuyerEvent & { metadata?: { occurredAt?: string } };

export function evolveBuyerFlag(_state: BuyerFlagState, event: RecordedBuyerEvent): BuyerFlagState {
  const since = event.metadata?.occurredAt;
  switch (event.type) {
    case 'BuyerFlagged':
      return { flagged: true, reason: event.data.reason, ...(since !== undefined ? { since } : {}) };
    case 'BuyerUnflagged':
      return {
        flagged: false,
        ...(event.data.reason !== undefined ? { reason: event.data.reason } : {}),
        ...(since !== undefined ? { since } : {}),
      };
    default:
      return assertNever(event);
  }
}

export const foldBuyerFlag = (events: readonly RecordedBuyerEvent[], from: BuyerFlagState = initialBuyerFlagState): BuyerFlagState =>
  events.reduce(evolveBuyerFlag, from);

/**
 * Who may do what: admins flag and clear; the system flags (the abuse rule)
 * but never clears, so only a person lifts a flag.
 */
const MAY: Readonly<Record<BuyerCommand['type'], readonly Actor['role'][]>> = {
  'flag-buyer': ['admin', 'system'],
  'unflag-buyer': ['admin'],
};

/** Asking for the state the buyer is already in records nothing. */
export function decideBuyerFlag(state: BuyerFlagState, command: BuyerCommand): Decision<BuyerEvent> {
  const { actor, data } = command;
  if (!MAY[command.type].includes(actor.role)) return refuse({ type: 'RoleNotPermitted', action: command.type, role: actor.role });
  switch (command.type) {
    case 'flag-buyer': {
      const reason = command.data.reason.trim();
      if (reason === '') return broken('reason_required', 'a flag needs a reason');
      if (state.flagged) return accept([]);
      return accept([{ type: 'BuyerFlagged', data: { buyerId: data.buyerId, reason } }]);
    }
    case 'unflag-buyer': {
      if (!state.flagged) return accept([]);
      const reason = command.data.reason?.trim();
      return accept([{ type: 'BuyerUnflagged', data: { buyerId: data.buyerId, ...(reason ? { reason } : {}) } }]);
    }
    default:
      return assertNever(command);
  }
}

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
