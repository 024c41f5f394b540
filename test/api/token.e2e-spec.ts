import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { jwtVerify } from 'jose';
import { DEVELOPMENT_JWT_SECRET } from '@aftersales/config';

jest.setTimeout(120_000);

const root = resolve(__dirname, '..', '..');

/** Runs `node scripts/token.js` as `npm run token --` does, with a clean environment. */
function runToken(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [join(root, 'scripts', 'token.js'), ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
  });
}

describe('npm run token', () => {
  it('prints a development token the service verifies: HS256, development secret, default iss and aud', async () => {
    const result = runToken(['--role', 'merchant', '--sub', 'm-user', '--merchant-id', 'm1']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const { payload, protectedHeader } = await jwtVerify(lines[0], new TextEncoder().encode(DEVELOPMENT_JWT_SECRET), {
      algorithms: ['HS256'],
      issuer: 'aftersales',
      audience: 'aftersales-api',
      requiredClaims: ['exp'],
    });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload).toMatchObject({ sub: 'm-user', role: 'merchant', merchantId: 'm1' });
    expect(payload.exp! - payload.iat!).toBe(8 * 3600);
  });

  it('signs with the secret, issuer and audience of the environment', async () => {
    const secret = 'a-secret-of-at-least-thirty-two-characters';
    const result = runToken(['--role', 'buyer', '--sub', 'u1', '--expires-in', '10m'], {
      AUTH_JWT_SECRET: secret,
      AUTH_JWT_ISSUER: 'idp',
      AUTH_JWT_AUDIENCE: 'api',
    });
    expect(result.status).toBe(0);
    const { payload } = await jwtVerify(result.stdout.trim(), new TextEncoder().encode(secret), { issuer: 'idp', audience: 'api' });
    expect(payload.exp! - payload.iat!).toBe(600);
  });

  it('exits 2 with a clear message on bad flags', () => {
    const result = runToken(['--role', 'merchant', '--sub', 'm-user']);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('--merchant-id is required for --role merchant');
    expect(result.stderr).toContain('Usage: npm run token');
    expect(runToken(['--role', 'wizard', '--sub', 'u1']).status).toBe(2);
    expect(runToken(['--sub', 'u1', '--bogus']).status).toBe(2);
  });
});
