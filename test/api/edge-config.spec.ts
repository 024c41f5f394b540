import { ConfigError, loadConfig } from '@aftersales/config';

// The edge's settings as the start reads them: a wrong value stops the start
// with a message naming the variable.
const PRODUCTION = {
  NODE_ENV: 'production',
  AUTH_JWT_ALGORITHM: 'ES256',
  INTEGRATION_WEBHOOK_SECRET: 'a-webhook-secret-of-our-own-2931',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('edge configuration', () => {
  it('refuses a JWKS over plain http in production, and takes https', () => {
    expect(problemsOf({ ...PRODUCTION, AUTH_JWKS_URL: 'http://idp.internal/jwks.json' })).toEqual([
      'AUTH_JWKS_URL: must use https when NODE_ENV=production (got "http://idp.internal/jwks.json")',
    ]);
    expect(loadConfig({ ...PRODUCTION, AUTH_JWKS_URL: 'https://idp.internal/jwks.json' }).auth.jwksUrl).toBe('https://idp.internal/jwks.json');
    // A development start may use a local identity provider.
    expect(loadConfig({ AUTH_JWT_ALGORITHM: 'ES256', AUTH_JWKS_URL: 'http://127.0.0.1:9/jwks.json' }).auth.jwksUrl).toMatch(/^http:/);
  });

  it('reads TRUST_PROXY as no proxy, a hop count, or proxy addresses and ranges', () => {
    expect(loadConfig({}).http.trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).http.trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '2' }).http.trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.4,fd00::/8' }).http.trustProxy).toEqual(['10.0.0.0/8', '192.168.1.4', 'fd00::/8']);
    for (const wrong of ['true', 'yes', '0', '10.0.0.0/8,lb.internal']) {
      expect(problemsOf({ TRUST_PROXY: wrong })).toEqual([expect.stringMatching(/^TRUST_PROXY: must be false, a hop count/)]);
    }
  });

  it('takes a METRICS_TOKEN of 16 characters or more, never a placeholder in production', () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: 'scrape-0123456789' }).metricsToken).toBe('scrape-0123456789');
    expect(problemsOf({ METRICS_TOKEN: 'short' })).toEqual(['METRICS_TOKEN: must be at least 16 characters']);
    expect(problemsOf({ ...PRODUCTION, AUTH_JWKS_URL: 'https://idp/jwks.json', METRICS_TOKEN: 'change-me-metrics-token' })).toEqual([
      expect.stringMatching(/^METRICS_TOKEN: looks like a placeholder/),
    ]);
  });
});
