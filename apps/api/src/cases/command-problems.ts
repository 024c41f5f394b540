import { CommandRefusedError, ConcurrentWriteError, PreconditionFailedError } from '@aftersales/application';
import { assertNever, type Refusal } from '@aftersales/domain';
import { ConcurrencyError, EventStoreUnavailableError } from '@aftersales/event-store';
import { ProblemException, problems } from '../problem/problem';
import { etagOf } from './acting';

/** What the refused command was about, for the wording of the answer. */
export type Subject = 'case' | 'order' | 'policy' | 'buyer';

// Order commands have routes rather than action names: a 409 names what the caller can call.
const ORDER_ROUTE_NAMES: Readonly<Record<string, string>> = { register: 'register', 'mark-shipped': 'shipped', 'mark-delivered': 'delivered' };

/** A domain refusal as API.md answers it: 403, 404, 409 with allowedActions, 422 with rule. */
export function refusalProblem(refusal: Refusal, subject: Subject): ProblemException {
  switch (refusal.type) {
    case 'RoleNotPermitted':
      return problems.forbidden(`The role ${refusal.role} does not ${refusal.action}.`);
    case 'NotFound':
      // A case command can fail on its order (a request names one): the domain's detail says which.
      return problems.notFound(`No such ${notFoundSubject(refusal.detail) ?? subject}, or not one this caller may see.`);
    case 'Forbidden':
      return new ProblemException(403, 'Forbidden', `${refusal.detail}.`, { reason: refusal.reason });
    case 'ActionNotAllowed': {
      const allowed = subject === 'order' ? refusal.allowedActions.map((a) => ORDER_ROUTE_NAMES[a] ?? a) : refusal.allowedActions;
      const action = subject === 'order' ? (ORDER_ROUTE_NAMES[refusal.action] ?? refusal.action) : refusal.action;
      return problems.actionNotAllowed(`${action} is not allowed while the ${subject} is ${refusal.status}.`, allowed);
    }
    case 'BusinessRuleBroken':
      return problems.businessRule(refusal.rule, upperFirst(refusal.detail));
    case 'Conflict':
      return problems.conflict(upperFirst(refusal.detail), { reason: refusal.reason });
    default:
      return assertNever(refusal);
  }
}

/**
 * Maps what the command path throws on purpose to the problem a client sees;
 * undefined for anything else (a bug: the global filter logs it and answers 500).
 * `allowedActions` goes with a 409 from a lost race, where the domain gave none.
 */
export function commandProblem(error: unknown, subject: Subject, allowedActions?: readonly string[]): ProblemException | undefined {
  if (error instanceof ProblemException) return error;
  if (error instanceof CommandRefusedError) return refusalProblem(error.refusal, subject);
  if (error instanceof PreconditionFailedError) {
    const current = error.actualRevision >= 0 ? error.actualRevision : undefined;
    return new ProblemException(
      412,
      'Precondition Failed',
      `If-Match named revision ${error.expectedRevision}; the ${subject} is at ${current ?? 'another revision'}. Read it again and decide anew.`,
      { revision: current },
      current !== undefined ? { headers: { ETag: etagOf(current) } } : {},
    );
  }
  if (error instanceof ConcurrentWriteError || error instanceof ConcurrencyError) {
    return problems.conflict(`The ${subject} kept changing under concurrent writes; read it again and retry.`, {
      ...(allowedActions ? { allowedActions: [...allowedActions] } : {}),
    });
  }
  if (error instanceof EventStoreUnavailableError) {
    return new ProblemException(503, 'Service Unavailable', 'The event store cannot be reached right now; retry shortly.', {}, { headers: { 'Retry-After': '5' } });
  }
  return undefined;
}

/** The metric outcome of a command that threw. */
export function outcomeOf(error: unknown): string {
  if (error instanceof CommandRefusedError) return 'refused';
  if (error instanceof PreconditionFailedError) return 'precondition_failed';
  if (error instanceof ConcurrentWriteError || error instanceof ConcurrencyError) return 'conflict';
  if (error instanceof EventStoreUnavailableError) return 'unavailable';
  return 'failed';
}

const notFoundSubject = (detail: string | undefined): Subject | undefined =>
  detail === 'unknown order' ? 'order' : detail === 'unknown case' ? 'case' : undefined;

const upperFirst = (text: string): string => (text ? text[0].toUpperCase() + text.slice(1) : text);
