import { BUYER_STATUS_LABELS, CASE_STATUSES } from '../kinds';
import { DEFAULT_POLICY } from '../policy';
import { act, admin, after, agent, agent2, arbitrator, buyer, DAY, integration, merchant, otherBuyer, request, system, World } from '../testing';
import { allowedActions } from './allowed-actions';
import { transitionDiagram } from './diagram';
import { statusLabel, waitingFor } from './labels';

const pending = () => new World().delivered().run(request());
const allowed = (w: World, actor: Parameters<typeof allowedActions>[1]) => allowedActions(w.state(), actor, w.now, w.policy);

describe('allowedActions', () => {
  test('per role, for a case waiting for the merchant', () => {
    const w = pending();
    expect(allowed(w, buyer)).toEqual(['withdraw']);
    expect(allowed(w, merchant)).toEqual(['approve', 'reject', 'counter-offer']);
    // Not in the agent pool: an agent may only claim it.
    expect(allowed(w, agent)).toEqual(['claim']);
    expect(allowed(w, arbitrator)).toEqual(['note']);
    expect(allowed(w, admin)).toEqual(['assign', 'note']);
    expect(allowed(w, otherBuyer)).toEqual([]);
    // Timers and callbacks are not user actions.
    expect(allowed(w, system)).toEqual([]);
    expect(allowed(w, integration)).toEqual([]);
  });

  test('urge appears once the wait has passed', () => {
    const w = pending();
    expect(allowed(w.advance(DAY), buyer)).toEqual(['withdraw', 'urge']);
  });

  test('hold rules: the holder keeps working, other agents see nothing to do', () => {
    const w = pending().run(act('claim', agent));
    expect(allowed(w, agent)).toEqual(['approve', 'release', 'note', 'compensate']);
    expect(allowed(w, agent2)).toEqual([]);
    expect(allowed(w, admin)).toEqual(['release', 'assign', 'transfer', 'note']);
  });

  test('pool cases are open to every agent of the line: a flagged buyer, an escalation', () => {
    const w = new World().delivered();
    w.buyerFlagged = true;
    w.run(request());
    expect(allowedActions(w.state(), agent, w.now, w.policy, true)).toEqual(['approve', 'claim', 'note', 'compensate']);
    expect(allowedActions(w.state(), agent, w.now, w.policy, false)).toEqual(['claim']);
    w.run(act('reject', merchant, { reason: 'worn' }), act('escalate', buyer, { reason: 'unfair' }));
    expect(allowedActions(w.state(), agent2, w.now, w.policy, false)).toEqual(['claim', 'note', 'compensate']);
  });

  test('a payout issued takes withdraw away', () => {
    const w = pending().run(act('claim', agent));
    expect(allowed(w, buyer)).toEqual(['withdraw']);
    w.run(act('compensate', agent, { amount: 100, form: 'coupon' }));
    expect(allowed(w, buyer)).toEqual([]);
  });

  test('an ended case offers only a rating, and only once', () => {
    const w = pending().run(act('reject', merchant, { reason: 'no' })).at(after(8 * DAY));
    w.run(act('deadline-passed', system, { name: 'buyerAppeal', dueAt: after(7 * DAY).toISOString() }));
    expect(w.case()).toMatchObject({ status: 'closed', closedReason: 'rejected' });
    expect(allowed(w, buyer)).toEqual(['rate']);
    for (const staff of [merchant, agent, arbitrator, admin]) expect(allowed(w, staff)).toEqual([]);
    w.run(act('rate', buyer, { score: 2 }));
    expect(allowed(w, buyer)).toEqual([]);
  });

  test('before a case exists, buyers and agents may request', () => {
    expect(allowedActions({ status: 'none' }, buyer, after(0), DEFAULT_POLICY)).toEqual(['request']);
    expect(allowedActions({ status: 'none' }, merchant, after(0), DEFAULT_POLICY)).toEqual([]);
  });
});

describe('statusLabel', () => {
  test('buyers get DOMAIN.md\'s labels, everyone else the status name', () => {
    expect(statusLabel('pending_merchant', 'buyer')).toBe('Waiting for the seller (待商家处理)');
    expect(statusLabel('awaiting_replacement', 'buyer')).toBe('Seller is preparing your item');
    expect(statusLabel('closed', 'buyer')).toBe('Closed (售后关闭)');
    expect(statusLabel('pending_merchant', 'merchant')).toBe('pending_merchant');
    expect(Object.keys(BUYER_STATUS_LABELS).sort()).toEqual([...CASE_STATUSES].sort());
  });

  test('what each open status waits for', () => {
    expect(waitingFor('return_in_transit')).toBe('merchant to confirm receipt');
    expect(waitingFor('completed')).toBeUndefined();
  });
});

describe('transitionDiagram', () => {
  test('is Mermaid stateDiagram-v2 with every status and the table\'s arrows', () => {
    const text = transitionDiagram();
    expect(text.startsWith('stateDiagram-v2\n')).toBe(true);
    for (const status of CASE_STATUSES) expect(text).toContain(status);
    expect(text).toContain('[*] --> pending_merchant : request');
    expect(text).toContain('pending_merchant --> awaiting_return : merchantResponse passed');
    expect(text).toContain('return_in_transit --> escalated : confirm-receipt (failed)');
    expect(text).toContain('escalated --> closed : rule (for merchant)');
    expect(text).toContain('completed --> [*]');
    expect(text.split('\n').filter((l) => l.includes('-->')).length).toBeGreaterThan(25);
  });
});
