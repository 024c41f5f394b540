import { decidePolicy, foldPolicy, initialPolicyState, type PolicyEvent } from './policy-events';
import { effectivePolicy } from './policy';
import { admin, merchant } from './testing';
import { policyStream, orderStream, caseStream } from './streams';

const change = (scope: string, overrides: unknown, actor = admin) => ({ type: 'change-policy' as const, actor, data: { scope, overrides } });

describe('policy changes', () => {
  test('an admin replaces a scope\'s overrides; the same again records nothing', () => {
    const first = decidePolicy(initialPolicyState, change('merchant-m1', { merchantResponse: 'PT24H' }));
    expect(first).toEqual({ ok: true, events: [{ type: 'PolicyChanged', data: { scope: 'merchant-m1', overrides: { merchantResponse: 'PT24H' } } }] });
    const state = foldPolicy(first.ok ? (first.events as PolicyEvent[]) : []);
    expect(decidePolicy(state, change('merchant-m1', { merchantResponse: 'PT24H' }))).toEqual({ ok: true, events: [] });
    expect(effectivePolicy(undefined, state.overrides).merchantResponse).toBe(24 * 3_600_000);
  });

  test('refusals: not an admin, bad scope, bad values', () => {
    expect(decidePolicy(initialPolicyState, change('platform', {}, merchant))).toMatchObject({ ok: false, refusal: { type: 'RoleNotPermitted' } });
    expect(decidePolicy(initialPolicyState, change('shop-1', {}))).toMatchObject({ ok: false, refusal: { type: 'NotFound' } });
    expect(decidePolicy(initialPolicyState, change('platform', { merchantResponse: 'two days' }))).toMatchObject({
      ok: false,
      refusal: { type: 'BusinessRuleBroken', rule: 'invalid_policy' },
    });
  });
});

test('stream names', () => {
  expect(orderStream('o1')).toBe('order-o1');
  expect(caseStream('c1')).toBe('aftersales-c1');
  expect(policyStream('platform')).toBe('policy-platform');
});
