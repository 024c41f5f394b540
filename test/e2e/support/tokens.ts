import { SignJWT } from 'jose';
import { DEVELOPMENT_JWT_SECRET } from '@aftersales/config';

export type Role = 'buyer' | 'merchant' | 'agent' | 'arbitrator' | 'admin' | 'integration';

export interface Claims {
  sub: string;
  role: Role;
  merchantId?: string;
  businessLine?: string;
  authorityLimit?: number;
  [claim: string]: unknown;
}

export interface SignOptions {
  secret?: string;
  issuer?: string;
  audience?: string;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  /** Leave `exp` out entirely. */
  noExpiry?: boolean;
}

const encoder = new TextEncoder();

/** A bearer token as the platform's identity provider issues it (HS256, the development secret, default iss and aud). */
export async function signToken(claims: Claims, options: SignOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setIssuer(options.issuer ?? 'aftersales')
    .setAudience(options.audience ?? 'aftersales-api');
  if (!options.noExpiry) jwt = jwt.setExpirationTime(now + (options.expiresIn ?? 3600));
  return jwt.sign(encoder.encode(options.secret ?? DEVELOPMENT_JWT_SECRET));
}

/** Tokens for each role; arguments are the claims the identity table requires. */
export const tokens = {
  buyer: (sub: string) => signToken({ sub, role: 'buyer' }),
  merchant: (merchantId: string, sub = `${merchantId}-staff`) => signToken({ sub, role: 'merchant', merchantId }),
  agent: (sub: string, businessLine: string, authorityLimit?: number) =>
    signToken({ sub, role: 'agent', businessLine, ...(authorityLimit === undefined ? {} : { authorityLimit }) }),
  arbitrator: (sub: string, businessLine: string) => signToken({ sub, role: 'arbitrator', businessLine }),
  admin: (sub = 'admin-1') => signToken({ sub, role: 'admin' }),
  integration: (sub = 'order-system') => signToken({ sub, role: 'integration' }),
};
