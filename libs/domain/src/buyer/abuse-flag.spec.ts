import { abuseFlagReason } from './abuse-flag';
import { foldBuyerFlag, initialBuyerFlagState, type RecordedBuyerEvent } from './buyer-flag';

const flagged = { type: 'BuyerFlagged', data: { buyerId: 'u-1', reason: 'abuse' }, metadata: { occurredAt: '2025-03-01T08:00:00.000Z' } } as RecordedBuyerEvent;
const cleared = { type: 'BuyerUnflagged', data: { buyerId: 'u-1' }, metadata: { occurredAt: '2025-03-02T08:00:00.000Z' } } as RecordedBuyerEvent;
const reported = { reasons: ['refunded 83.3% of what its orders paid over 6 cases (rule: 50% from 3 cases)', '5 of 6 cases refunded as refund_only with nothing returned (rule: 60% from 3 cases)'] };

describe('abuseFlagReason', () => {
  it('flags a buyer never flagged as soon as the report names it, saying which rules and the figures', () => {
    expect(abuseFlagReason(initialBuyerFlagState, reported, 0)).toBe(
      'abuse rule: refunded 83.3% of what its orders paid over 6 cases (rule: 50% from 3 cases); 5 of 6 cases refunded as refund_only with nothing returned (rule: 60% from 3 cases)',
    );
  });

  it('leaves a flagged buyer, and a buyer the report names for nothing', () => {
    expect(abuseFlagReason(foldBuyerFlag([flagged]), reported, 3)).toBeUndefined();
    expect(abuseFlagReason(initialBuyerFlagState, { reasons: [] }, 0)).toBeUndefined();
  });

  it('leaves a cleared flag cleared until the buyer requests another case after the clear', () => {
    const state = foldBuyerFlag([flagged, cleared]);
    expect(abuseFlagReason(state, reported, 0)).toBeUndefined();
    expect(abuseFlagReason(state, reported, 1)).toMatch(/^abuse rule: refunded 83\.3%.*; 1 case since the flag was cleared on 2025-03-02T08:00:00\.000Z$/);
    expect(abuseFlagReason(state, reported, 2)).toMatch(/; 2 cases since the flag was cleared on/);
  });
});
