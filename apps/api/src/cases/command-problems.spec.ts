import { CommandRefusedError, ConcurrentWriteError, PreconditionFailedError } from '@aftersales/application';
import { ConcurrencyError, EventStoreUnavailableError } from '@aftersales/event-store';
import { ProblemException } from '../problem/problem';
import { parseIfMatch } from './acting';
import { commandProblem, outcomeOf } from './command-problems';

// The answers that are hard to provoke over HTTP (lost races, a store that
// is down) and the If-Match grammar, checked on the mapping itself.

describe('commandProblem', () => {
  const map = (error: unknown, subject: 'case' | 'order' | 'policy' = 'case', allowed?: string[]) => {
    const problem = commandProblem(error, subject, allowed);
    return problem && { status: problem.problem.status, body: problem.problem, headers: problem.headers };
  };

  it('answers each refusal class with its status and members', () => {
    expect(map(new CommandRefusedError({ type: 'RoleNotPermitted', action: 'approve', role: 'buyer' }))).toMatchObject({ status: 403 });
    expect(map(new CommandRefusedError({ type: 'NotFound', detail: 'unknown case' }))).toMatchObject({ status: 404 });
    expect(map(new CommandRefusedError({ type: 'Forbidden', reason: 'held_by_another_agent', detail: 'held' }))).toMatchObject({
      status: 403,
      body: { reason: 'held_by_another_agent' },
    });
    expect(
      map(new CommandRefusedError({ type: 'ActionNotAllowed', action: 'accept-offer', status: 'pending_merchant', allowedActions: ['withdraw'] })),
    ).toMatchObject({ status: 409, body: { allowedActions: ['withdraw'], detail: 'accept-offer is not allowed while the case is pending_merchant.' } });
    expect(map(new CommandRefusedError({ type: 'BusinessRuleBroken', rule: 'amount_above_refundable', detail: 'asked 5, refundable 4' }))).toMatchObject({
      status: 422,
      body: { rule: 'amount_above_refundable', detail: 'Asked 5, refundable 4' },
    });
    expect(map(new CommandRefusedError({ type: 'Conflict', reason: 'order_snapshot_differs', detail: 'different' }), 'order')).toMatchObject({
      status: 409,
      body: { reason: 'order_snapshot_differs' },
    });
  });

  it('names order routes rather than order commands in allowedActions', () => {
    const refusal = new CommandRefusedError({ type: 'ActionNotAllowed', action: 'mark-delivered', status: 'placed', allowedActions: ['register', 'mark-shipped'] });
    expect(map(refusal, 'order')).toMatchObject({ status: 409, body: { allowedActions: ['register', 'shipped'], detail: 'delivered is not allowed while the order is placed.' } });
  });

  it('answers a stale If-Match with 412, the current revision and its ETag', () => {
    expect(map(new PreconditionFailedError(2, 5))).toMatchObject({ status: 412, body: { revision: 5 }, headers: { ETag: '"5"' } });
    expect(map(new PreconditionFailedError(2, -1))).toMatchObject({ status: 412, headers: {} });
  });

  it('answers a race lost after every retry with 409 and the caller\'s allowedActions', () => {
    expect(map(new ConcurrentWriteError('aftersales-c1', 6), 'case', ['withdraw'])).toMatchObject({ status: 409, body: { allowedActions: ['withdraw'] } });
    expect(map(new ConcurrencyError('policy-platform', 3, 4), 'policy')).toMatchObject({ status: 409 });
  });

  it('answers an unreachable store with 503 and Retry-After, and leaves other errors to the 500 handler', () => {
    expect(map(new EventStoreUnavailableError('down'))).toMatchObject({ status: 503, headers: { 'Retry-After': '5' } });
    expect(map(new Error('bug'))).toBeUndefined();
    const given = new ProblemException(400, 'Bad Request', 'x');
    expect(commandProblem(given, 'case')).toBe(given);
  });

  it('labels outcomes for command_outcomes_total', () => {
    expect(outcomeOf(new CommandRefusedError({ type: 'NotFound' }))).toBe('refused');
    expect(outcomeOf(new PreconditionFailedError(1, 2))).toBe('precondition_failed');
    expect(outcomeOf(new ConcurrentWriteError('s-1', 6))).toBe('conflict');
    expect(outcomeOf(new EventStoreUnavailableError('down'))).toBe('unavailable');
    expect(outcomeOf(new TypeError('bug'))).toBe('failed');
  });
});

describe('parseIfMatch', () => {
  it.each([
    ['"0"', 0],
    ['"12"', 12],
    ['7', 7],
    [' "3" ', 3],
  ])('reads %s as revision %d', (header, revision) => {
    expect(parseIfMatch(header)).toBe(revision);
  });

  it('takes a missing header as no precondition', () => {
    expect(parseIfMatch(undefined)).toBeUndefined();
  });

  it.each(['', '*', 'W/"1"', '"-1"', '"1", "2"', 'abc', '"1.5"', '"99999999999999999"'])('refuses %p with 400 naming If-Match', (header) => {
    let thrown: unknown;
    try {
      parseIfMatch(header);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProblemException);
    expect((thrown as ProblemException).problem).toMatchObject({ status: 400, errors: [{ field: 'If-Match' }] });
  });
});
