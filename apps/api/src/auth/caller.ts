export const ROLES = ['buyer', 'merchant', 'agent', 'arbitrator', 'admin', 'integration'] as const;
export type Role = (typeof ROLES)[number];

/** Ids in tokens, paths and bodies (API.md, "Transport and errors"). */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The verified caller of a request, from its bearer token's claims (API.md, "Identity"). */
export interface Caller {
  role: Role;
  /** The token's `sub`: the actor id. */
  id: string;
  /** Present for merchants. */
  merchantId?: string;
  /** Present for agents and arbitrators. */
  businessLine?: string;
  /** Minor units an agent may grant on its own; 0 when the token has none. */
  authorityLimit: number;
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/**
 * Checks the claims of a token whose signature and registered claims are
 * already verified, and returns the caller, or the reason it is refused.
 */
export function callerFromClaims(claims: Record<string, unknown>): Caller | { refused: string } {
  const { sub, role, merchantId, businessLine, authorityLimit } = claims;
  if (typeof sub !== 'string' || !ID_PATTERN.test(sub)) return { refused: 'claim sub must be 1-64 characters of A-Z a-z 0-9 _ -' };
  if (!isRole(role)) return { refused: `claim role must be one of ${ROLES.join(', ')}` };
  if (merchantId !== undefined && (typeof merchantId !== 'string' || !ID_PATTERN.test(merchantId))) {
    return { refused: 'claim merchantId must be 1-64 characters of A-Z a-z 0-9 _ -' };
  }
  if (businessLine !== undefined && (typeof businessLine !== 'string' || !ID_PATTERN.test(businessLine))) {
    return { refused: 'claim businessLine must be 1-64 characters of A-Z a-z 0-9 _ -' };
  }
  if (authorityLimit !== undefined && !(Number.isSafeInteger(authorityLimit) && (authorityLimit as number) >= 0)) {
    return { refused: 'claim authorityLimit must be a non-negative integer' };
  }
  if (role === 'merchant' && merchantId === undefined) return { refused: 'claim merchantId is required for merchants' };
  if ((role === 'agent' || role === 'arbitrator') && businessLine === undefined) {
    return { refused: `claim businessLine is required for ${role}s` };
  }
  const caller: Caller = { role, id: sub, authorityLimit: (authorityLimit as number | undefined) ?? 0 };
  if (role === 'merchant') caller.merchantId = merchantId as string;
  if (role === 'agent' || role === 'arbitrator') caller.businessLine = businessLine as string;
  return caller;
}
