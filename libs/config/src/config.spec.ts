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
    expect(config.readStore).toEqual({ kind: 'sqlite', sqlitePath: './data/aftersales.read.db' });
    expect(config.redisUrl).toBeUndefined();
    expect(config.http).toEqual({ host: '0.0.0.0', port: 3000, trustProxy: false });
    expect(config.auth).toMatchObject({ algorithm: 'HS256', secret: DEVELOPMENT_JWT_SECRET, issuer: 'aftersales', audience: 'aftersales-api' });
    expect(config.integrations).toMatchObject({ payments: 'sandbox', logistics: 'sandbox' });
    expect(config.rateLimitPerMinute).toBe(6000);
  });

  it('names each wrong variable and what it allows, all at once', () => {
    const problems = problemsOf({ PORT: 'eighty', EVENT_STORE: 'mongo', PAYMENTS: 'stripe', RATE_LIMIT_PER_MINUTE: '0' });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PORT: must be an integer from 0 to 65535 \(got "eighty"\)$/),
        expect.stringMatching(/^EVENT_STORE: must be one of sqlite, eventstoredb/),
        expect.stringMatching(/^PAYMENTS: must be one of sandbox, http \(got "stripe"\)$/),
        expect.stringMatching(/^RATE_LIMIT_PER_MINUTE: must be an integer from 1/),
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it('needs a connection string for EventStoreDB', () => {
    expect(problemsOf({ EVENT_STORE: 'eventstoredb' })).toEqual(['EVENTSTORE_CONNECTION_STRING: is required when EVENT_STORE=eventstoredb']);
    const config = loadConfig({ EVENT_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113?tls=false' });
    expect(config.eventStore).toMatchObject({ kind: 'eventstoredb', connectionString: 'esdb://localhost:2113?tls=false' });
  });

  it('needs a URL for each real backend it is switched to', () => {
    expect(problemsOf({ READ_STORE: 'postgres', PAYMENTS: 'http', LOGISTICS: 'http' })).toEqual([
      'DATABASE_URL: is required when READ_STORE=postgres',
      'PAYMENTS_URL: is required when PAYMENTS=http',
      'LOGISTICS_URL: is required when LOGISTICS=http',
    ]);
    const config = loadConfig({
      READ_STORE: 'postgres',
      DATABASE_URL: 'postgres://app@db/aftersales',
      PAYMENTS: 'http',
      PAYMENTS_URL: 'https://pay.example/refunds',
      LOGISTICS: 'http',
      LOGISTICS_URL: 'https://carrier.example/pickups',
      SANDBOX_PAYMENT_SETTLE_MS: '20',
    });
    expect(config.readStore).toEqual({ kind: 'postgres', databaseUrl: 'postgres://app@db/aftersales', sqlitePath: './data/aftersales.read.db' });
    expect(config.integrations).toMatchObject({ payments: 'http', paymentsUrl: 'https://pay.example/refunds', logistics: 'http', sandboxPaymentSettleMs: 20 });
    expect(problemsOf({ DATABASE_URL: 'mysql://db/x' })).toEqual(['DATABASE_URL: must use one of the schemes postgres, postgresql (got "mysql://db/x")']);
  });

  it('sends the sandbox providers\' callbacks to this service unless told otherwise', () => {
    expect(loadConfig({ PORT: '4100' }).integrations.sandboxCallbackUrl).toBe('http://127.0.0.1:4100');
    expect(loadConfig({ SANDBOX_CALLBACK_URL: 'http://api:3000' }).integrations.sandboxCallbackUrl).toBe('http://api:3000');
  });

  it('refuses URLs with the wrong scheme', () => {
    expect(problemsOf({ REDIS_URL: 'http://localhost:6379' })).toEqual([
      'REDIS_URL: must use one of the schemes redis, rediss (got "http://localhost:6379")',
    ]);
    expect(problemsOf({ EVENTSTORE_CONNECTION_STRING: 'not a url' })[0]).toMatch(/^EVENTSTORE_CONNECTION_STRING: must be a URL/);
  });

  it('never echoes the password of a URL it refuses, parsable or not', () => {
    const problems = problemsOf({
      REDIS_URL: 'http://default:hunter2@cache:6379',
      EVENTSTORE_CONNECTION_STRING: 'esdb://admin:s3cr/et pass@es:2113?tls=false',
      AUTH_JWKS_URL: 'ftp://id.example/jwks?token=hunter3',
    });
    expect(problems).toEqual([
      'EVENTSTORE_CONNECTION_STRING: must be a URL (esdb, esdb+discover, kurrentdb, kurrentdb+discover, kdb, kdb+discover) (got "esdb://***@es:2113?tls=false")',
      'REDIS_URL: must use one of the schemes redis, rediss (got "http://***@cache:6379")',
      'AUTH_JWKS_URL: must use one of the schemes https, http (got "ftp://id.example/jwks?token=***")',
    ]);
    expect(problemsOf({ REDIS_URL: 'admin:hunter2@cache:6379' }).join()).not.toContain('hunter2');
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

  it('refuses placeholder secrets, such as docker-compose samples, in production', () => {
    const problems = problemsOf({
      NODE_ENV: 'production',
      AUTH_JWT_SECRET: 'change-me-compose-jwt-secret-at-least-32-characters',
      INTEGRATION_WEBHOOK_SECRET: 'change-me-compose-webhook-secret',
    });
    expect(problems).toEqual([
      expect.stringMatching(/^AUTH_JWT_SECRET: looks like a placeholder/),
      expect.stringMatching(/^INTEGRATION_WEBHOOK_SECRET: looks like a placeholder/),
    ]);
    expect(problems.join()).not.toContain('compose');
    expect(problemsOf({ AUTH_JWT_SECRET: 'change-me-compose-jwt-secret-at-least-32-characters' })).toEqual([]);
  });

  it('takes the abuse watch\'s period from WORKER_ABUSE_WATCH_INTERVAL_MS, a minute unless told, from 100 ms to a day', () => {
    expect(loadConfig({}).worker.abuseWatchIntervalMs).toBe(60_000);
    expect(loadConfig({ WORKER_ABUSE_WATCH_INTERVAL_MS: '300000' }).worker.abuseWatchIntervalMs).toBe(300_000);
    for (const bad of ['99', '86400001', 'hourly', '1.5']) {
      expect(problemsOf({ WORKER_ABUSE_WATCH_INTERVAL_MS: bad })).toEqual([`WORKER_ABUSE_WATCH_INTERVAL_MS: must be an integer from 100 to 86400000 (got "${bad}")`]);
    }
  });

  it('takes the schedule horizon from WORKER_SCHEDULE_HORIZON_MS, 15 minutes unless told, at least two reconciliation periods', () => {
    expect(loadConfig({}).worker.scheduleHorizonMs).toBe(900_000);
    expect(loadConfig({ WORKER_SCHEDULE_HORIZON_MS: '3000', WORKER_RECONCILE_INTERVAL_MS: '1000' }).worker.scheduleHorizonMs).toBe(3000);
    expect(problemsOf({ WORKER_SCHEDULE_HORIZON_MS: '100000' })).toEqual(['WORKER_SCHEDULE_HORIZON_MS: must be at least twice WORKER_RECONCILE_INTERVAL_MS (120000) (got "100000")']);
    expect(problemsOf({ WORKER_SCHEDULE_HORIZON_MS: 'soon' })).toEqual(['WORKER_SCHEDULE_HORIZON_MS: must be an integer from 200 to 86400000 (got "soon")']);
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
