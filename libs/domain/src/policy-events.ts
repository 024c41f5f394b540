import type { Actor } from './kinds';
import { isPolicyScope, validatePolicyOverrides, type PolicyOverrides } from './policy';
import { accept, assertNever, refuse, type Decision } from './refusal';

/** On `policy-<scope>`: the scope's overrides replace the previous ones (absent fields inherit). */
export type PolicyChanged = { type: 'PolicyChanged'; data: { scope: string; overrides: PolicyOverrides } };
export type PolicyEvent = PolicyChanged;

export type ChangePolicy = { type: 'change-policy'; actor: Actor; data: { scope: string; overrides: unknown } };
export type PolicyCommand = ChangePolicy;

export interface PolicyState {
  scope?: string;
  overrides: PolicyOverrides;
}

export const initialPolicyState: PolicyState = { overrides: {} };

// Each change replaces the scope's overrides whole, so the previous state is not read.
export function evolvePolicy(_state: PolicyState, event: PolicyEvent): PolicyState {
  switch (event.type) {
    case 'PolicyChanged':
      return { scope: event.data.scope, overrides: { ...event.data.overrides } };
    default:
      return assertNever(event.type);
  }
}

export const foldPolicy = (events: readonly PolicyEvent[]): PolicyState => events.reduce(evolvePolicy, initialPolicyState);

/** Admins replace a scope's overrides; the same overrides again record nothing. */
export function decidePolicy(state: PolicyState, command: PolicyCommand): Decision<PolicyEvent> {
  const { actor, data } = command;
  if (actor.role !== 'admin') return refuse({ type: 'RoleNotPermitted', action: command.type, role: actor.role });
  if (!isPolicyScope(data.scope)) return refuse({ type: 'NotFound', detail: `no policy scope ${data.scope}` });
  if (state.scope !== undefined && state.scope !== data.scope) {
    return refuse({ type: 'Conflict', reason: 'policy_scope_mismatch', detail: `this stream holds ${state.scope}` });
  }
  const checked = validatePolicyOverrides(data.overrides);
  if (!checked.ok) {
    return refuse({
      type: 'BusinessRuleBroken',
      rule: 'invalid_policy',
      detail: checked.errors.map((e) => `${e.field} ${e.message}`).join('; '),
    });
  }
  if (state.scope !== undefined && sameOverrides(state.overrides, checked.overrides)) return accept([]);
  return accept([{ type: 'PolicyChanged', data: { scope: data.scope, overrides: checked.overrides } }]);
}

function sameOverrides(a: PolicyOverrides, b: PolicyOverrides): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof PolicyOverrides>;
  return [...keys].every((k) => a[k] === b[k]);
}
