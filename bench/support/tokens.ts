import { SignJWT } from 'jose';
import { DEVELOPMENT_JWT_SECRET } from '@aftersales/config';

const secret = new TextEncoder().encode(DEVELOPMENT_JWT_SECRET);

/** A bearer token the service accepts when it runs with its development secret (no JWT_* set), valid for `hours`. */
export async function developmentToken(claims: Record<string, unknown>, hours = 2): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setIssuer('aftersales')
    .setAudience('aftersales-api')
    .setExpirationTime(now + hours * 3600)
    .sign(secret);
}
