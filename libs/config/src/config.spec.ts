import { ConfigError, DEVELOPMENT_JWT_SECRET, loadConfig } from './config';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('configuration', () => {
  it('starts on the embedded default with nothing set', () => {
    const config = loadConfig({});
    expect(config.eventStore).toEqual({ kind: 'sqlite', sqlitePath: './data/aftersales.db' });
    expect(config.readStore).toEqual({ kind: 'sqlite', sqlitePath: './data/aftersales.db' });
    expect(config.redisUrl).toBeUndefined();
    expect(config.http).toEqual({ host: '0.0.0.0', port: 3000 });
    expect(config.auth).toMatchObject({ algorithm: 'HS256', secret: DEVELOPMENT_JWT_SECRET, issuer: 'aftersales', audience: 'aftersales-api' });
    expect(config.integrations).toMatchObject({ payments: 'sandbox', logistics: 'sandbox', sandboxPaymentSettleMs: 500 });
    expect(config.rateLimitPerMinute).toBe(6000);
  });

  it('names each wrong variable and what it allows, all at once', () => {
    const problems = problemsOf({ PORT: 'eighty', EVENT_STORE: 'mongo', PAYMENTS: 'stripe', RATE_LIMIT_PER_MINUTE: '0' });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PORT: must be an integer from 0 to 65535 \(got "eighty"\)$/),
        expect.stringMatching(/^EVENT_STORE: must be one of sqlite, eventstoredb/),
        expect.stringMatching(/^PAYMENTS: must be one of sandbox, http/),
        expect.stringMatching(/^RATE_LIMIT_PER_MINUTE: must be an integer from 1/),
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it('needs a connection string for EventStoreDB and a database URL for PostgreSQL', () => {
    expect(problemsOf({ EVENT_STORE: 'eventstoredb', READ_STORE: 'postgres' })).toEqual([
      'EVENTSTORE_CONNECTION_STRING: is required when EVENT_STORE=eventstoredb',
      'DATABASE_URL: is required when READ_STORE=postgres',
    ]);
    const config = loadConfig({
      EVENT_STORE: 'eventstoredb',
      EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113?tls=false',
      READ_STORE: 'postgres',
      DATABASE_URL: 'postgres://localhost/aftersales',
    });
    expect(config.eventStore).toMatchObject({ kind: 'eventstoredb', connectionString: 'esdb://localhost:2113?tls=false' });
    expect(config.readStore).toEqual({ kind: 'postgres', databaseUrl: 'postgres://localhost/aftersales' });
  });

  it('refuses URLs with the wrong scheme', () => {
    expect(problemsOf({ REDIS_URL: 'http://localhost:6379' })).toEqual([
      'REDIS_URL: must use one of the schemes redis, rediss (got "http://localhost:6379")',
    ]);
    expect(problemsOf({ EVENTSTORE_CONNECTION_STRING: 'not a url' })[0]).toMatch(/^EVENTSTORE_CONNECTION_STRING: must be a URL/);
  });

  it('refuses the development secrets in production, without echoing secrets', () => {
    const problems = problemsOf({ NODE_ENV: 'production', INTEGRATION_WEBHOOK_SECRET: 'short' });
    expect(problems).toEqual([
      'AUTH_JWT_SECRET: is required when NODE_ENV=production (the development secret is refused)',
      'INTEGRATION_WEBHOOK_SECRET: must be at least 16 characters',
    ]);
    expect(problems.join()).not.toContain('short');
    expect(problemsOf({ NODE_ENV: 'production', AUTH_JWT_SECRET: DEVELOPMENT_JWT_SECRET, INTEGRATION_WEBHOOK_SECRET: 'a-real-production-secret' })).toEqual([
      'AUTH_JWT_SECRET: must not be the development secret when NODE_ENV=production',
    ]);
  });

  it('needs a key or JWKS URL for asymmetric algorithms', () => {
    expect(problemsOf({ AUTH_JWT_ALGORITHM: 'RS256' })).toEqual([
      'AUTH_JWT_PUBLIC_KEY: or AUTH_JWKS_URL is required when AUTH_JWT_ALGORITHM=RS256',
    ]);
    expect(problemsOf({ AUTH_JWT_ALGORITHM: 'none' })[0]).toMatch(/^AUTH_JWT_ALGORITHM: must be one of HS256, RS256, ES256/);
    expect(loadConfig({ AUTH_JWT_ALGORITHM: 'ES256', AUTH_JWKS_URL: 'https://id.example.com/jwks.json' }).auth.secret).toBeUndefined();
  });
});

describe('policy variables', () => {
  it('takes POLICY_* as the platform defaults', () => {
    const config = loadConfig({ POLICY_MERCHANT_RESPONSE: 'PT2S', POLICY_MAX_AMENDMENTS: '5', POLICY_AFTER_SALES_WINDOW: 'P1DT12H' });
    expect(config.policyDefaults).toEqual({ merchantResponse: 'PT2S', maxAmendments: 5, afterSalesWindow: 'P1DT12H' });
  });

  it('names a bad value or an unknown policy variable', () => {
    expect(problemsOf({ POLICY_MERCHANT_RESPONSE: '2 days', POLICY_COMPENSATION_CAP: '-1', POLICY_MERCHANT_RESPONCE: 'PT1H' })).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^POLICY_MERCHANT_RESPONSE: must be an ISO-8601 duration/),
        expect.stringMatching(/^POLICY_COMPENSATION_CAP: must be a non-negative integer/),
        'POLICY_MERCHANT_RESPONCE: is not a policy variable (see POLICY_* in the README)',
      ]),
    );
  });
});
