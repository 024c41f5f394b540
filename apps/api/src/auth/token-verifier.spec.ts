import { SignJWT, exportSPKI, generateKeyPair, type KeyLike } from 'jose';
import { DEVELOPMENT_JWT_SECRET, loadConfig, type AppConfig } from '@aftersales/config';
import { TokenRejectedError, TokenVerifier } from './token-verifier';

const secret = new TextEncoder().encode(DEVELOPMENT_JWT_SECRET);

function sign(
  claims: Record<string, unknown>,
  options: { key?: KeyLike | Uint8Array; alg?: string; iss?: string; aud?: string; exp?: number | string | null; sub?: string | null } = {},
): Promise<string> {
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setIssuer(options.iss ?? 'aftersales')
    .setAudience(options.aud ?? 'aftersales-api')
    .setIssuedAt();
  if (options.sub !== null) jwt = jwt.setSubject(options.sub ?? 'u1');
  if (options.exp !== null) jwt = jwt.setExpirationTime(options.exp ?? '5m');
  return jwt.sign(options.key ?? secret);
}

function unsigned(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
}

async function verifier(config: AppConfig = loadConfig({})): Promise<TokenVerifier> {
  const instance = new TokenVerifier(config);
  await instance.onModuleInit();
  return instance;
}

describe('TokenVerifier with HS256 (the development default)', () => {
  let tokens: TokenVerifier;
  beforeAll(async () => {
    tokens = await verifier();
  });

  it('returns the caller of a valid token', async () => {
    await expect(tokens.verify(await sign({ role: 'buyer' }))).resolves.toEqual({ role: 'buyer', id: 'u1', authorityLimit: 0 });
    await expect(tokens.verify(await sign({ role: 'merchant', merchantId: 'm1' }, { sub: 'm-user' }))).resolves.toEqual({
      role: 'merchant',
      id: 'm-user',
      merchantId: 'm1',
      authorityLimit: 0,
    });
    await expect(tokens.verify(await sign({ role: 'agent', businessLine: 'bl1', authorityLimit: 5000 }, { sub: 'a1' }))).resolves.toEqual({
      role: 'agent',
      id: 'a1',
      businessLine: 'bl1',
      authorityLimit: 5000,
    });
    await expect(tokens.verify(await sign({ role: 'arbitrator', businessLine: 'bl1' }))).resolves.toMatchObject({ businessLine: 'bl1' });
  });

  it('keeps only the claims a role uses', async () => {
    const caller = await tokens.verify(await sign({ role: 'buyer', merchantId: 'm1', businessLine: 'bl1' }));
    expect(caller).toEqual({ role: 'buyer', id: 'u1', authorityLimit: 0 });
  });

  const refusals: Array<[string, () => Promise<string>, RegExp]> = [
    ['an expired token', () => sign({ role: 'buyer' }, { exp: Math.floor(Date.now() / 1000) - 60 }), /expired/],
    ['a token without exp', () => sign({ role: 'buyer' }, { exp: null }), /exp/],
    ['a wrong issuer', () => sign({ role: 'buyer' }, { iss: 'elsewhere' }), /iss/],
    ['a wrong audience', () => sign({ role: 'buyer' }, { aud: 'another-api' }), /aud/],
    ['another secret', () => sign({ role: 'buyer' }, { key: new TextEncoder().encode('y'.repeat(48)) }), /signature/],
    ['alg none', async () => unsigned({ sub: 'u1', role: 'buyer', iss: 'aftersales', aud: 'aftersales-api', exp: 4102444800 }), /HS256/],
    ['HS512 with the right secret', () => sign({ role: 'buyer' }, { alg: 'HS512' }), /HS256/],
    ['garbage', async () => 'a.b.c', /malformed/],
    ['no sub', () => sign({ role: 'buyer' }, { sub: null }), /sub/],
    ['a sub with other characters', () => sign({ role: 'buyer' }, { sub: 'u 1' }), /sub/],
    ['a sub longer than 64', () => sign({ role: 'buyer' }, { sub: 'u'.repeat(65) }), /sub/],
    ['no role', () => sign({}), /role/],
    ['an unknown role', () => sign({ role: 'root' }), /role/],
    ['a merchant without merchantId', () => sign({ role: 'merchant' }), /merchantId is required/],
    ['an agent without businessLine', () => sign({ role: 'agent' }), /businessLine is required/],
    ['an arbitrator without businessLine', () => sign({ role: 'arbitrator' }), /businessLine is required/],
    ['a malformed merchantId', () => sign({ role: 'merchant', merchantId: 'm/1' }), /merchantId/],
    ['a negative authorityLimit', () => sign({ role: 'agent', businessLine: 'bl', authorityLimit: -5 }), /authorityLimit/],
    ['a fractional authorityLimit', () => sign({ role: 'agent', businessLine: 'bl', authorityLimit: 1.5 }), /authorityLimit/],
    ['a string authorityLimit', () => sign({ role: 'agent', businessLine: 'bl', authorityLimit: '100' }), /authorityLimit/],
  ];

  it.each(refusals)('refuses %s', async (_name, make, reason) => {
    const error = await tokens.verify(await make()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRejectedError);
    expect((error as Error).message).toMatch(reason);
  });

  it('checks iss and aud against the configuration', async () => {
    const custom = await verifier(loadConfig({ AUTH_JWT_ISSUER: 'idp.example', AUTH_JWT_AUDIENCE: 'aftersales-prod' }));
    await expect(custom.verify(await sign({ role: 'buyer' }, { iss: 'idp.example', aud: 'aftersales-prod' }))).resolves.toMatchObject({ id: 'u1' });
    await expect(custom.verify(await sign({ role: 'buyer' }))).rejects.toBeInstanceOf(TokenRejectedError);
  });
});

describe.each(['RS256', 'ES256'] as const)('TokenVerifier with %s and a public key', (alg) => {
  let tokens: TokenVerifier;
  let privateKey: KeyLike;

  beforeAll(async () => {
    const pair = await generateKeyPair(alg);
    privateKey = pair.privateKey;
    tokens = await verifier(loadConfig({ AUTH_JWT_ALGORITHM: alg, AUTH_JWT_PUBLIC_KEY: await exportSPKI(pair.publicKey) }));
  });

  it('accepts a token signed with the private key', async () => {
    await expect(tokens.verify(await sign({ role: 'admin' }, { key: privateKey, alg }))).resolves.toEqual({ role: 'admin', id: 'u1', authorityLimit: 0 });
  });

  it('refuses an HS256 token (no algorithm confusion) and one from another key pair', async () => {
    await expect(tokens.verify(await sign({ role: 'admin' }))).rejects.toThrow(new RegExp(alg));
    const other = await generateKeyPair(alg);
    await expect(tokens.verify(await sign({ role: 'admin' }, { key: other.privateKey, alg }))).rejects.toThrow(/signature/);
  });
});

it('stops the start on a public key that is not PEM', async () => {
  const config = loadConfig({ AUTH_JWT_ALGORITHM: 'RS256', AUTH_JWT_PUBLIC_KEY: 'not a key' });
  await expect(verifier(config)).rejects.toThrow(/AUTH_JWT_PUBLIC_KEY/);
});
