import { jwtVerify } from 'jose';
import { DEVELOPMENT_JWT_SECRET, loadConfig } from '@aftersales/config';
import { UsageError, issueDevelopmentToken, parseTokenArguments } from './token-command';

describe('parseTokenArguments', () => {
  it('reads the flags of every role', () => {
    expect(parseTokenArguments(['--role', 'buyer', '--sub', 'u1'])).toEqual({ role: 'buyer', sub: 'u1', expiresIn: '8h' });
    expect(parseTokenArguments(['--role', 'merchant', '--sub', 'm-user', '--merchant-id', 'm1', '--expires-in', '30m'])).toEqual({
      role: 'merchant',
      sub: 'm-user',
      merchantId: 'm1',
      expiresIn: '30m',
    });
    expect(parseTokenArguments(['--role=agent', '--sub=a1', '--business-line=bl1', '--authority-limit=5000'])).toEqual({
      role: 'agent',
      sub: 'a1',
      businessLine: 'bl1',
      authorityLimit: 5000,
      expiresIn: '8h',
    });
    expect(parseTokenArguments(['--help'])).toBe('help');
  });

  it.each([
    [[], /--role is required/],
    [['--role', 'buyer'], /--sub is required/],
    [['--role', 'root', '--sub', 'u1'], /--role must be one of/],
    [['--role', 'buyer', '--sub', 'u 1'], /--sub must be/],
    [['--role', 'merchant', '--sub', 'm'], /--merchant-id is required/],
    [['--role', 'agent', '--sub', 'a'], /--business-line is required/],
    [['--role', 'arbitrator', '--sub', 'a'], /--business-line is required/],
    [['--role', 'agent', '--sub', 'a', '--business-line', 'b', '--authority-limit', '-1'], /--authority-limit/],
    [['--role', 'agent', '--sub', 'a', '--business-line', 'b', '--authority-limit', '1.5'], /--authority-limit/],
    [['--role', 'buyer', '--sub', 'u1', '--expires-in', 'soon'], /--expires-in/],
    [['--role', 'buyer', '--sub', 'u1', '--color'], /--color/],
    [['--role', 'buyer', '--sub', 'u1', 'extra'], /extra/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseTokenArguments(argv)).toThrow(UsageError);
    expect(() => parseTokenArguments(argv)).toThrow(message);
  });
});

describe('issueDevelopmentToken', () => {
  it('signs with the configured secret, issuer and audience', async () => {
    const { auth } = loadConfig({ AUTH_JWT_ISSUER: 'dev-idp', AUTH_JWT_AUDIENCE: 'dev-api' });
    const jwt = await issueDevelopmentToken({ role: 'agent', sub: 'a1', businessLine: 'bl1', authorityLimit: 700, expiresIn: '1h' }, auth);
    const { payload, protectedHeader } = await jwtVerify(jwt, new TextEncoder().encode(DEVELOPMENT_JWT_SECRET), {
      issuer: 'dev-idp',
      audience: 'dev-api',
      algorithms: ['HS256'],
    });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload).toMatchObject({ sub: 'a1', role: 'agent', businessLine: 'bl1', authorityLimit: 700 });
    expect(payload.exp! - payload.iat!).toBe(3600);
  });

  it('refuses to sign when the service does not use HS256', async () => {
    const auth = { ...loadConfig({}).auth, algorithm: 'RS256' as const, secret: undefined };
    await expect(issueDevelopmentToken({ role: 'buyer', sub: 'u1', expiresIn: '8h' }, auth)).rejects.toThrow(/HS256/);
  });
});
