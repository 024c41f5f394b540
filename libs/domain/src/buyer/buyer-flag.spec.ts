import { admin, agent, arbitrator, buyer, integration, merchant, system } from '../testing';
import { abuseFlagReason, buyerStream, decideBuyerFlag, foldBuyerFlag, initialBuyerFlagState, type BuyerCommand, type BuyerFlagState, type RecordedBuyerEvent } from './buyer-flag';

const flag = (reason: string, actor = admin): BuyerCommand => ({ type: 'flag-buyer', actor, data: { buyerId: 'u-1', reason } });
const unflag = (reason?: string, actor = admin): BuyerCommand => ({ type: 'unflag-buyer', actor, data: { buyerId: 'u-1', ...(reason !== undefined ? { reason } : {}) } });
const at = (event: { type: string; data: unknown }, occurredAt: string) => ({ ...event, metadata: { occurredAt } }) as RecordedBuyerEvent;

function decided(state: BuyerFlagState, command: BuyerCommand) {
  const decision = decideBuyerFlag(state, command);
  if (!decision.ok) throw new Error(`refused: ${JSON.stringify(decision.refusal)}`);
  return decision.events;
}

describe('buyer flag', () => {
  it('lives on buyer-<buyerId>', () => {
    expect(buyerStream('u-1')).toBe('buyer-u-1');
  });

  it('an admin flags a buyer with a reason; flagging a flagged buyer again records nothing', () => {
    const events = decided(initialBuyerFlagState, flag('  many refunds on one account  '));
    expect(events).toEqual([{ type: 'BuyerFlagged', data: { buyerId: 'u-1', reason: 'many refunds on one account' } }]);
    const flagged = foldBuyerFlag([at(events[0], '2025-03-01T08:00:00.000Z')]);
    expect(flagged).toEqual({ flagged: true, reason: 'many refunds on one account', since: '2025-03-01T08:00:00.000Z' });
    expect(decided(flagged, flag('another reason'))).toEqual([]);
  });

  it('unflagging records BuyerUnflagged, with or without a reason; unflagging an unflagged buyer records nothing', () => {
    expect(decided(initialBuyerFlagState, unflag('cleared'))).toEqual([]);
    const flagged = foldBuyerFlag([at({ type: 'BuyerFlagged', data: { buyerId: 'u-1', reason: 'abuse' } }, '2025-03-01T08:00:00.000Z')]);
    expect(decided(flagged, unflag())).toEqual([{ type: 'BuyerUnflagged', data: { buyerId: 'u-1' } }]);
    const events = decided(flagged, unflag('reviewed by a person'));
    expect(events).toEqual([{ type: 'BuyerUnflagged', data: { buyerId: 'u-1', reason: 'reviewed by a person' } }]);
    const cleared = foldBuyerFlag([at(events[0], '2025-03-02T08:00:00.000Z')], flagged);
    expect(cleared).toEqual({ flagged: false, reason: 'reviewed by a person', since: '2025-03-02T08:00:00.000Z' });
    expect(decided(cleared, unflag())).toEqual([]);
    expect(decided(cleared, flag('again'))).toHaveLength(1);
  });

  it('an admin flags and clears; any other role is refused both, and a blank reason is refused', () => {
    for (const actor of [buyer, merchant, agent, arbitrator, integration]) {
      expect(decideBuyerFlag(initialBuyerFlagState, flag('abuse', actor))).toMatchObject({ ok: false, refusal: { type: 'RoleNotPermitted' } });
      expect(decideBuyerFlag(initialBuyerFlagState, unflag(undefined, actor))).toMatchObject({ ok: false, refusal: { type: 'RoleNotPermitted' } });
    }
    expect(decideBuyerFlag(initialBuyerFlagState, flag('   '))).toMatchObject({ ok: false, refusal: { rule: 'reason_required' } });
  });

  it('the system (the abuse rule) may flag, once, but never clear a flag', () => {
    const events = decided(initialBuyerFlagState, flag('abuse rule: 5 of 6 cases refunded as refund_only with nothing returned', system));
    expect(events).toEqual([{ type: 'BuyerFlagged', data: { buyerId: 'u-1', reason: 'abuse rule: 5 of 6 cases refunded as refund_only with nothing returned' } }]);
    const flagged = foldBuyerFlag([at(events[0], '2025-03-01T08:00:00.000Z')]);
    expect(decided(flagged, flag('abuse rule: again', system))).toEqual([]);
    expect(decideBuyerFlag(flagged, unflag('no longer abusive', system))).toMatchObject({ ok: false, refusal: { type: 'RoleNotPermitted', action: 'unflag-buyer', role: 'system' } });
    expect(decideBuyerFlag(initialBuyerFlagState, flag('   ', system))).toMatchObject({ ok: false, refusal: { rule: 'reason_required' } });
  });
});

const flaggedEvent = { type: 'BuyerFlagged', data: { buyerId: 'u-1', reason: 'abuse' }, metadata: { occurredAt: '2025-03-01T08:00:00.000Z' } } as RecordedBuyerEvent;
const clearedEvent = { type: 'BuyerUnflagged', data: { buyerId: 'u-1' }, metadata: { occurredAt: '2025-03-02T08:00:00.000Z' } } as RecordedBuyerEvent;
const reported = { reasons: ['refunded 83.3% of what its orders paid over 6 cases (rule: 50% from 3 cases)', '5 of 6 cases refunded as refund_only with nothing returned (rule: 60% from 3 cases)'] };

describe('abuseFlagReason', () => {
  it('flags a buyer never flagged as soon as the report names it, saying which rules and the figures', () => {
    expect(abuseFlagReason(initialBuyerFlagState, reported, 0)).toBe(
      'abuse rule: refunded 83.3% of what its orders paid over 6 cases (rule: 50% from 3 cases); 5 of 6 cases refunded as refund_only with nothing returned (rule: 60% from 3 cases)',
    );
  });

  it('leaves a flagged buyer, and a buyer the report names for nothing', () => {
    expect(abuseFlagReason(foldBuyerFlag([flaggedEvent]), reported, 3)).toBeUndefined();
    expect(abuseFlagReason(initialBuyerFlagState, { reasons: [] }, 0)).toBeUndefined();
  });

  it('leaves a cleared flag cleared until the buyer requests another case after the clear', () => {
    const state = foldBuyerFlag([flaggedEvent, clearedEvent]);
    expect(abuseFlagReason(state, reported, 0)).toBeUndefined();
    expect(abuseFlagReason(state, reported, 1)).toMatch(/^abuse rule: refunded 83\.3%.*; 1 case since the flag was cleared on 2025-03-02T08:00:00\.000Z$/);
    expect(abuseFlagReason(state, reported, 2)).toMatch(/; 2 cases since the flag was cleared on/);
  });
});
