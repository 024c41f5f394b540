import fc from 'fast-check';
import {
  DEFAULT_POLICY,
  DEFAULT_POLICY_WIRE,
  POLICY_NAMES,
  effectivePolicy,
  effectivePolicyWire,
  formatDuration,
  parseDuration,
  policyEnvVariable,
  policyFromEnvironment,
  policyToWire,
  validatePolicyOverrides,
} from './policy';

const H = 3_600_000;
const D = 24 * H;

describe('ISO-8601 durations', () => {
  test.each([
    ['P7D', 7 * D],
    ['PT48H', 48 * H],
    ['PT2S', 2_000],
    ['P1DT12H', 36 * H],
    ['PT90M', 90 * 60_000],
    ['P0D', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(['P7D', 'PT2S', 'P1DT12H', 'PT0S', 'P10DT1H2M3S'])('%s formats back to itself', (text) => {
    expect(formatDuration(parseDuration(text)!)).toBe(text);
  });

  test('PT48H and P2D are the same duration; formatting is canonical', () => {
    expect(formatDuration(parseDuration('PT48H')!)).toBe('P2D');
    expect(parseDuration(formatDuration(parseDuration('PT48H')!))).toBe(48 * H);
  });

  test.each(['', 'P', 'PT', '7D', 'P1Y', 'P1M', 'P2W', 'P-1D', 'P1.5D', 'PT1H30', 'p7d', 'P7DT', 'P99999999D', ' P7D'])(
    '%j is refused',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );

  test('parse(format(ms)) = ms for every whole-second duration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3_650 * 86_400 }), (seconds) => parseDuration(formatDuration(seconds * 1_000)) === seconds * 1_000),
      { numRuns: 200 },
    );
  });
});

describe('effective policy', () => {
  test('defaults are DOMAIN.md\'s', () => {
    expect(DEFAULT_POLICY).toMatchObject({
      merchantResponse: 48 * H,
      buyerOfferResponse: 48 * H,
      buyerAppeal: 7 * D,
      buyerShipBack: 7 * D,
      merchantReceipt: 10 * D,
      merchantShipment: 72 * H,
      replacementAutoComplete: 10 * D,
      platformRulingSla: 72 * H,
      noReasonWindow: 7 * D,
      afterSalesWindow: 15 * D,
      warrantyWindow: 365 * D,
      returnTransit: 5 * D,
      urgeMinWait: 24 * H,
      urgeCooldown: 24 * H,
      maxAmendments: 3,
      expressRefundMinTrust: 700,
      expressRefundMaxAmount: 100_000,
      autoReviewMaxAmount: 5_000,
      autoReviewMinTrust: 600,
      compensationCap: 10_000,
      autoReviewRefundBeforeShipment: 1,
      autoReviewSmallAmount: 1,
    });
  });

  test('merchant overrides platform, platform overrides the environment, field by field', () => {
    const environment = { merchantResponse: 'PT24H', compensationCap: 1 };
    const platform = { merchantResponse: 'PT36H', buyerAppeal: 'P3D' };
    const merchant = { merchantResponse: 'PT12H', maxAmendments: 1 };
    expect(effectivePolicy(environment, platform, merchant)).toMatchObject({
      merchantResponse: 12 * H,
      buyerAppeal: 3 * D,
      maxAmendments: 1,
      compensationCap: 1,
      buyerShipBack: 7 * D,
    });
    expect(effectivePolicyWire(undefined, platform)).toEqual({ ...DEFAULT_POLICY_WIRE, ...platform });
  });

  test('the wire form round-trips', () => {
    expect(effectivePolicy(policyToWire(DEFAULT_POLICY))).toEqual(DEFAULT_POLICY);
  });
});

describe('validating overrides', () => {
  test('good values pass and unknown or bad fields are named', () => {
    expect(validatePolicyOverrides({ merchantResponse: 'PT2S', maxAmendments: 0 })).toEqual({
      ok: true,
      overrides: { merchantResponse: 'PT2S', maxAmendments: 0 },
    });
    const bad = validatePolicyOverrides({ merchantResponse: '48h', maxAmendments: -1, compensationCap: 1.5, colour: 'red', buyerAppeal: 7 });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.errors.map((e) => e.field).sort()).toEqual(['buyerAppeal', 'colour', 'compensationCap', 'maxAmendments', 'merchantResponse']);
    expect(validatePolicyOverrides(null).ok).toBe(false);
    expect(validatePolicyOverrides([]).ok).toBe(false);
  });

  test('auto-review switches are 0 or 1, in a scope and in the environment', () => {
    expect(validatePolicyOverrides({ autoReviewSmallAmount: 0, autoReviewRefundBeforeShipment: 1 })).toEqual({
      ok: true,
      overrides: { autoReviewSmallAmount: 0, autoReviewRefundBeforeShipment: 1 },
    });
    const bad = validatePolicyOverrides({ autoReviewSmallAmount: 2 });
    expect(bad).toEqual({ ok: false, errors: [{ field: 'autoReviewSmallAmount', message: 'must be 0 (off) or 1 (on)' }] });
    expect(policyEnvVariable('autoReviewRefundBeforeShipment')).toBe('POLICY_AUTO_REVIEW_REFUND_BEFORE_SHIPMENT');
    expect(policyFromEnvironment({ POLICY_AUTO_REVIEW_SMALL_AMOUNT: '0' })).toEqual({ ok: true, overrides: { autoReviewSmallAmount: 0 } });
    const env = policyFromEnvironment({ POLICY_AUTO_REVIEW_REFUND_BEFORE_SHIPMENT: '5' });
    expect(!env.ok && env.errors.map((e) => e.field)).toEqual(['POLICY_AUTO_REVIEW_REFUND_BEFORE_SHIPMENT']);
    // A merchant switches a rule off over a platform that keeps it on.
    expect(effectivePolicy({ autoReviewSmallAmount: 1 }, undefined, { autoReviewSmallAmount: 0 }).autoReviewSmallAmount).toBe(0);
  });

  test('environment variables are POLICY_ and the upper-snake name', () => {
    expect(policyEnvVariable('merchantResponse')).toBe('POLICY_MERCHANT_RESPONSE');
    expect(policyEnvVariable('platformRulingSla')).toBe('POLICY_PLATFORM_RULING_SLA');
    expect(policyEnvVariable('expressRefundMinTrust')).toBe('POLICY_EXPRESS_REFUND_MIN_TRUST');
    expect(new Set(POLICY_NAMES.map(policyEnvVariable)).size).toBe(POLICY_NAMES.length);
  });

  test('a bad environment value names its variable', () => {
    expect(policyFromEnvironment({ POLICY_MERCHANT_RESPONSE: 'PT2S', POLICY_MAX_AMENDMENTS: '5', PATH: '/bin' })).toEqual({
      ok: true,
      overrides: { merchantResponse: 'PT2S', maxAmendments: 5 },
    });
    const bad = policyFromEnvironment({ POLICY_BUYER_APPEAL: 'seven days', POLICY_COMPENSATION_CAP: '-3' });
    expect(!bad.ok && bad.errors.map((e) => e.field)).toEqual(['POLICY_BUYER_APPEAL', 'POLICY_COMPENSATION_CAP']);
  });
});
