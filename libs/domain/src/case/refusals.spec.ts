import { act, admin, agent, agent2, buyer, foreignAgent, given, integration, lowAgent, merchant, otherBuyer, otherMerchant, request, system, World } from '../testing';
import { refusalStatus, type Refusal } from '../refusal';

// Each refusal class, and the order API.md checks them in.

const pending = () => new World().delivered().run(request());
const when = (w: World, command: Parameters<ReturnType<typeof given>['when']>[0]) => given(w.events('c1')).when(command, w.ctx());

test('403: a role that never performs the action', () => {
  when(pending(), act('approve', buyer)).thenRefused({ type: 'RoleNotPermitted', action: 'approve', role: 'buyer' });
  when(pending(), act('withdraw', merchant)).thenRefused('RoleNotPermitted');
  when(pending(), act('rule', agent, { ruling: 'buyer', note: 'x' })).thenRefused('RoleNotPermitted');
  when(pending(), act('deadline-passed', admin, { name: 'merchantResponse', dueAt: '2025-03-03T08:00:00.000Z' })).thenRefused('RoleNotPermitted');
  when(pending(), act('refund-settled', system, { refundId: 'c1-r1', at: '2025-03-03T08:00:00.000Z' })).thenRefused('RoleNotPermitted');
});

test('404: unknown case, or one the caller may not see', () => {
  given([]).when(act('approve', merchant), pending().ctx()).thenRefused('NotFound');
  when(pending(), act('withdraw', otherBuyer)).thenRefused('NotFound');
  when(pending(), act('approve', otherMerchant)).thenRefused('NotFound');
  when(pending(), act('approve', foreignAgent)).thenRefused('NotFound');
  // Visibility is checked before the status: a stranger never learns what state the case is in.
  when(pending().run(act('withdraw', buyer)), act('withdraw', otherBuyer)).thenRefused('NotFound');
});

test('403 object level: another agent\'s case, or above the authority limit', () => {
  const held = pending().run(act('claim', agent2));
  when(held, act('approve', agent)).thenRefused({ type: 'Forbidden', reason: 'held_by_another_agent' });
  when(held, act('note', agent, { text: 'x' })).thenRefused('held_by_another_agent');
  when(pending(), act('approve', lowAgent)).thenRefused({ type: 'Forbidden', reason: 'above_authority_limit' });
  when(pending(), act('compensate', lowAgent, { amount: 101, form: 'cash' })).thenRefused('above_authority_limit');
  when(pending(), act('compensate', { ...agent, authorityLimit: undefined }, { amount: 1, form: 'cash' })).thenRefused('above_authority_limit');
  // Object-level 403 comes before 409: the status would not allow approval either.
  when(held.run(act('reject', merchant, { reason: 'no' })), act('approve', agent)).thenRefused('held_by_another_agent');
});

test('409: not in the caller\'s allowed actions now, with the list', () => {
  const refusal = when(pending().run(act('reject', merchant, { reason: 'no' })), act('approve', merchant)).thenRefused('ActionNotAllowed');
  expect(refusal).toEqual({ type: 'ActionNotAllowed', action: 'approve', status: 'rejected', allowedActions: [] });
  expect(when(pending(), act('escalate', buyer, { reason: 'x' })).thenRefused('ActionNotAllowed')).toMatchObject({
    allowedActions: ['withdraw'],
  });
  when(pending(), act('return-delivered', integration, { trackingNumber: 'x', at: '2025-03-01T09:00:00Z' })).thenRefused('ActionNotAllowed');
});

test('422: a command value that breaks a rule', () => {
  when(pending(), act('counter-offer', merchant, { amount: 0 })).thenRefused('amount_must_be_positive');
  const held = () => pending().run(act('claim', agent));
  when(held(), act('compensate', agent, { amount: 10_001, form: 'cash' })).thenRefused('compensation_cap_exceeded');
  const paidOnce = held().run(act('compensate', agent, { amount: 9_000, form: 'cash' }));
  when(paidOnce, act('compensate', agent, { amount: 1_001, form: 'cash' })).thenRefused('compensation_cap_exceeded');
  when(paidOnce, act('compensate', agent, { amount: 1_000, form: 'balance' })).thenTypes('CompensationGranted', 'RefundIssued');
});

test('each class maps to its HTTP status', () => {
  const cases: [Refusal, number][] = [
    [{ type: 'RoleNotPermitted', action: 'approve', role: 'buyer' }, 403],
    [{ type: 'NotFound' }, 404],
    [{ type: 'Forbidden', reason: 'held_by_another_agent', detail: '' }, 403],
    [{ type: 'ActionNotAllowed', action: 'approve', status: 'closed', allowedActions: [] }, 409],
    [{ type: 'Conflict', reason: 'order_snapshot_differs', detail: '' }, 409],
    [{ type: 'BusinessRuleBroken', rule: 'unknown_line', detail: '' }, 422],
  ];
  for (const [refusal, status] of cases) expect(refusalStatus(refusal)).toBe(status);
});
