import { SignJWT } from 'jose';
import { parseArgs } from 'node:util';
import type { AppConfig } from '@aftersales/config';

const ROLES = ['buyer', 'merchant', 'agent', 'arbitrator', 'admin', 'integration'] as const;
type Role = (typeof ROLES)[number];
const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** What jose accepts and a person types: a number and a unit, e.g. 30m, 8h, 7d. */
const DURATION_PATTERN = /^\d+\s?(s|sec|secs|m|min|mins|h|hr|hrs|d|day|days|w|week|weeks)$/;

export const TOKEN_USAGE = `Usage: npm run token -- --role <role> --sub <id> [options]

Prints a development token signed with the configured HS256 secret, issuer and audience.

  --role <role>              ${ROLES.join(' | ')}
  --sub <id>                 the actor id (1-64 of A-Z a-z 0-9 _ -)
  --merchant-id <id>         required for --role merchant
  --business-line <id>       required for --role agent and arbitrator
  --authority-limit <n>      agent's authority in minor units (integer >= 0)
  --expires-in <duration>    e.g. 30m, 8h, 7d (default 8h)
  --help                     this text`;

export interface TokenRequest {
  role: Role;
  sub: string;
  merchantId?: string;
  businessLine?: string;
  authorityLimit?: number;
  expiresIn: string;
}

/** A flag the user got wrong; the CLI prints the message and the usage and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseTokenArguments(argv: readonly string[]): TokenRequest | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        role: { type: 'string' },
        sub: { type: 'string' },
        'merchant-id': { type: 'string' },
        'business-line': { type: 'string' },
        'authority-limit': { type: 'string' },
        'expires-in': { type: 'string', default: '8h' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';

  const role = values.role as string | undefined;
  if (role === undefined) throw new UsageError('--role is required');
  if (!(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')} (got "${role}")`);
  const sub = values.sub as string | undefined;
  if (sub === undefined) throw new UsageError('--sub is required');
  if (!ID_PATTERN.test(sub)) throw new UsageError(`--sub must be 1-64 characters of A-Z a-z 0-9 _ - (got "${sub}")`);

  const request: TokenRequest = { role: role as Role, sub, expiresIn: values['expires-in'] as string };
  const merchantId = values['merchant-id'] as string | undefined;
  if (merchantId !== undefined) {
    if (!ID_PATTERN.test(merchantId)) throw new UsageError(`--merchant-id must be 1-64 characters of A-Z a-z 0-9 _ - (got "${merchantId}")`);
    request.merchantId = merchantId;
  }
  const businessLine = values['business-line'] as string | undefined;
  if (businessLine !== undefined) {
    if (!ID_PATTERN.test(businessLine)) throw new UsageError(`--business-line must be 1-64 characters of A-Z a-z 0-9 _ - (got "${businessLine}")`);
    request.businessLine = businessLine;
  }
  const authorityLimit = values['authority-limit'] as string | undefined;
  if (authorityLimit !== undefined) {
    const limit = /^\d+$/.test(authorityLimit) ? Number(authorityLimit) : NaN;
    if (!Number.isSafeInteger(limit)) throw new UsageError(`--authority-limit must be an integer >= 0 in minor units (got "${authorityLimit}")`);
    request.authorityLimit = limit;
  }
  if (!DURATION_PATTERN.test(request.expiresIn)) {
    throw new UsageError(`--expires-in must be a number and a unit, e.g. 30m, 8h, 7d (got "${request.expiresIn}")`);
  }
  if (role === 'merchant' && request.merchantId === undefined) throw new UsageError('--merchant-id is required for --role merchant');
  if ((role === 'agent' || role === 'arbitrator') && request.businessLine === undefined) {
    throw new UsageError(`--business-line is required for --role ${role}`);
  }
  return request;
}

/** Signs the token the service accepts: same secret, issuer and audience as the running configuration. */
export async function issueDevelopmentToken(request: TokenRequest, auth: AppConfig['auth']): Promise<string> {
  if (auth.algorithm !== 'HS256' || !auth.secret) {
    throw new Error(`Development tokens are signed with HS256; AUTH_JWT_ALGORITHM is ${auth.algorithm}. Use your identity provider's tokens.`);
  }
  const claims: Record<string, unknown> = { role: request.role };
  if (request.merchantId !== undefined) claims.merchantId = request.merchantId;
  if (request.businessLine !== undefined) claims.businessLine = request.businessLine;
  if (request.authorityLimit !== undefined) claims.authorityLimit = request.authorityLimit;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(request.sub)
    .setIssuer(auth.issuer)
    .setAudience(auth.audience)
    .setIssuedAt()
    .setExpirationTime(request.expiresIn)
    .sign(new TextEncoder().encode(auth.secret));
}
