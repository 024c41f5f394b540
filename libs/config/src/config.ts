import { POLICY_NAMES, policyEnvVariable, policyFromEnvironment, type PolicyOverrides } from '@aftersales/domain';
import { EnvReader } from './env-reader';

export type EventStoreKind = 'sqlite' | 'eventstoredb';
export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';
/** `sandbox`: the embedded stand-in answering through the signed callbacks; `http`: a real provider. */
export type ProviderMode = 'sandbox' | 'http';
export type ReadStoreKind = 'sqlite' | 'postgres';

/** Secrets that make a development start work; a production start refuses them. */
export const DEVELOPMENT_JWT_SECRET = 'aftersales-development-jwt-secret-do-not-use-in-production';
export const DEVELOPMENT_WEBHOOK_SECRET = 'aftersales-development-webhook-secret-do-not-use-in-production';

/** Words of a placeholder left in a sample file (docker-compose's "change-me-..."): never a production secret. */
const PLACEHOLDER_SECRET = /change[-_ .]?me|replace[-_ .]?me|placeholder|example|do[-_ .]?not[-_ .]?use/i;

export interface AppConfig {
  production: boolean;
  logLevel: string;
  /** `trustProxy`: which proxies' X-Forwarded-For gives the client IP (Fastify's trustProxy); false: none. */
  http: { host: string; port: number; trustProxy: TrustProxy };
  /** Set: /metrics answers only `Authorization: Bearer <metricsToken>`; unset: only callers on this machine. */
  metricsToken?: string;
  eventStore:
    | { kind: 'sqlite'; sqlitePath: string }
    | { kind: 'eventstoredb'; connectionString: string; sqlitePath: string };
  /**
   * Read models. On SQLite they live in a file of their own beside
   * SQLITE_PATH (see `readModelsPath`); `sqlitePath` is that file.
   */
  readStore: { kind: 'sqlite'; sqlitePath: string } | { kind: 'postgres'; databaseUrl: string; sqlitePath: string };
  /** Unset: the process starts (and owns) a local redis-server. */
  redisUrl?: string;
  auth: {
    algorithm: JwtAlgorithm;
    secret?: string;
    publicKey?: string;
    jwksUrl?: string;
    issuer: string;
    audience: string;
  };
  integrations: {
    webhookSecret: string;
    payments: ProviderMode;
    /** With PAYMENTS=http: the payment centre's refund endpoint. */
    paymentsUrl?: string;
    logistics: ProviderMode;
    /** With LOGISTICS=http: the carrier's pickup booking endpoint. */
    logisticsUrl?: string;
    /** How long the sandbox payment centre takes to settle a refund. */
    sandboxPaymentSettleMs: number;
    /** Where the sandbox providers send their signed callbacks: this service's own API. */
    sandboxCallbackUrl: string;
  };
  rateLimitPerMinute: number;
  worker: {
    /** How often the reconciler re-creates jobs Redis lost (ARCHITECTURE.md rule 4: at least once a minute). */
    reconcileIntervalMs: number;
    /**
     * How far ahead work gets its BullMQ job: work due later waits in the
     * durable table until a reconciliation pass finds it inside this window.
     * At least two reconciliation periods, so every job is in Redis a period before it is due.
     */
    scheduleHorizonMs: number;
    /** How often the abuse watch reads the abuse report and flags the buyers it names. */
    abuseWatchIntervalMs: number;
  };
  /** The platform policy defaults from POLICY_* (the layer under the platform and merchant policies). */
  policyDefaults: PolicyOverrides;
}

/** false, a number of proxy hops, or the proxies' addresses and CIDR ranges. */
export type TrustProxy = false | number | string[];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and checks the whole configuration (API.md, "Configuration"). Any
 * wrong value throws one ConfigError naming every variable at fault, so the
 * process stops before it opens a port or a file.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const read = new EnvReader(env);
  const production = read.raw('NODE_ENV') === 'production';

  const sqlitePath = read.string('SQLITE_PATH', './data/aftersales.db');
  const eventStoreKind = read.oneOf<EventStoreKind>('EVENT_STORE', ['sqlite', 'eventstoredb'], 'sqlite');
  const connectionString = read.url('EVENTSTORE_CONNECTION_STRING', ['esdb', 'esdb+discover', 'kurrentdb', 'kurrentdb+discover', 'kdb', 'kdb+discover']);
  if (eventStoreKind === 'eventstoredb') read.require('EVENTSTORE_CONNECTION_STRING', 'when EVENT_STORE=eventstoredb');

  const readStoreKind = read.oneOf<ReadStoreKind>('READ_STORE', ['sqlite', 'postgres'], 'sqlite');
  const databaseUrl = read.url('DATABASE_URL', ['postgres', 'postgresql']);
  if (readStoreKind === 'postgres') read.require('DATABASE_URL', 'when READ_STORE=postgres');

  const redisUrl = read.url('REDIS_URL', ['redis', 'rediss']);

  const host = read.string('HOST', '0.0.0.0');
  const port = read.integer('PORT', 3000, 0, 65535);

  const algorithm = read.oneOf<JwtAlgorithm>('AUTH_JWT_ALGORITHM', ['HS256', 'RS256', 'ES256'], 'HS256');
  const givenSecret = read.optionalString('AUTH_JWT_SECRET');
  const publicKey = read.optionalString('AUTH_JWT_PUBLIC_KEY');
  const jwksUrl = read.url('AUTH_JWKS_URL', ['https', 'http']);
  // Keys fetched over plain http could be swapped on the way: production takes them over https only.
  if (production && jwksUrl !== undefined && new URL(jwksUrl).protocol !== 'https:') {
    read.fail('AUTH_JWKS_URL', 'must use https when NODE_ENV=production', jwksUrl);
  }
  let secret: string | undefined;
  if (algorithm === 'HS256') {
    if (givenSecret === undefined && production) {
      read.fail('AUTH_JWT_SECRET', 'is required when NODE_ENV=production (the development secret is refused)');
    } else if (givenSecret === DEVELOPMENT_JWT_SECRET && production) {
      read.fail('AUTH_JWT_SECRET', 'must not be the development secret when NODE_ENV=production');
    } else if (givenSecret !== undefined && production && PLACEHOLDER_SECRET.test(givenSecret)) {
      read.fail('AUTH_JWT_SECRET', 'looks like a placeholder ("change-me", "example", ...); set a secret of your own when NODE_ENV=production');
    } else if (givenSecret !== undefined && givenSecret.length < 32) {
      read.fail('AUTH_JWT_SECRET', 'must be at least 32 characters');
    }
    secret = givenSecret ?? DEVELOPMENT_JWT_SECRET;
  } else if (publicKey === undefined && jwksUrl === undefined) {
    read.fail('AUTH_JWT_PUBLIC_KEY', `or AUTH_JWKS_URL is required when AUTH_JWT_ALGORITHM=${algorithm}`);
  }

  const givenWebhookSecret = read.optionalString('INTEGRATION_WEBHOOK_SECRET');
  if (production && (givenWebhookSecret === undefined || givenWebhookSecret === DEVELOPMENT_WEBHOOK_SECRET)) {
    read.fail('INTEGRATION_WEBHOOK_SECRET', 'must be set to a secret of your own when NODE_ENV=production');
  } else if (production && PLACEHOLDER_SECRET.test(givenWebhookSecret ?? '')) {
    read.fail('INTEGRATION_WEBHOOK_SECRET', 'looks like a placeholder ("change-me", "example", ...); set a secret of your own when NODE_ENV=production');
  } else if (givenWebhookSecret !== undefined && givenWebhookSecret.length < 16) {
    read.fail('INTEGRATION_WEBHOOK_SECRET', 'must be at least 16 characters');
  }

  const metricsToken = read.optionalString('METRICS_TOKEN');
  if (metricsToken !== undefined && metricsToken.length < 16) read.fail('METRICS_TOKEN', 'must be at least 16 characters');
  else if (metricsToken !== undefined && production && PLACEHOLDER_SECRET.test(metricsToken)) {
    read.fail('METRICS_TOKEN', 'looks like a placeholder ("change-me", "example", ...); set a token of your own when NODE_ENV=production');
  }
  const trustProxy = readTrustProxy(read);

  const payments = read.oneOf<ProviderMode>('PAYMENTS', ['sandbox', 'http'], 'sandbox');
  const paymentsUrl = read.url('PAYMENTS_URL', ['http', 'https']);
  if (payments === 'http') read.require('PAYMENTS_URL', 'when PAYMENTS=http');
  const logistics = read.oneOf<ProviderMode>('LOGISTICS', ['sandbox', 'http'], 'sandbox');
  const logisticsUrl = read.url('LOGISTICS_URL', ['http', 'https']);
  if (logistics === 'http') read.require('LOGISTICS_URL', 'when LOGISTICS=http');

  const policyVariables = new Set(POLICY_NAMES.map(policyEnvVariable));
  for (const name of Object.keys(env)) {
    // A misspelt policy variable would otherwise be ignored without a word.
    if (name.startsWith('POLICY_') && !policyVariables.has(name)) read.fail(name, 'is not a policy variable (see POLICY_* in the README)');
  }
  const policy = policyFromEnvironment(env);
  if (!policy.ok) for (const error of policy.errors) read.problems.push(`${error.field}: ${error.message}`);

  const config: AppConfig = {
    production,
    logLevel: read.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    http: { host, port, trustProxy },
    metricsToken,
    eventStore:
      eventStoreKind === 'eventstoredb'
        ? { kind: 'eventstoredb', connectionString: connectionString ?? '', sqlitePath }
        : { kind: 'sqlite', sqlitePath },
    readStore:
      readStoreKind === 'postgres'
        ? { kind: 'postgres', databaseUrl: databaseUrl ?? '', sqlitePath: readModelsPath(sqlitePath) }
        : { kind: 'sqlite', sqlitePath: readModelsPath(sqlitePath) },
    redisUrl,
    auth: {
      algorithm,
      secret,
      publicKey,
      jwksUrl,
      issuer: read.string('AUTH_JWT_ISSUER', 'aftersales'),
      audience: read.string('AUTH_JWT_AUDIENCE', 'aftersales-api'),
    },
    integrations: {
      webhookSecret: givenWebhookSecret ?? DEVELOPMENT_WEBHOOK_SECRET,
      payments,
      paymentsUrl,
      logistics,
      logisticsUrl,
      sandboxPaymentSettleMs: read.integer('SANDBOX_PAYMENT_SETTLE_MS', 500, 0, 86_400_000),
      sandboxCallbackUrl: read.url('SANDBOX_CALLBACK_URL', ['http', 'https']) ?? `http://127.0.0.1:${port}`,
    },
    rateLimitPerMinute: read.integer('RATE_LIMIT_PER_MINUTE', 6000, 1, 10_000_000),
    worker: {
      reconcileIntervalMs: read.integer('WORKER_RECONCILE_INTERVAL_MS', 60_000, 100, 60_000),
      scheduleHorizonMs: read.integer('WORKER_SCHEDULE_HORIZON_MS', 900_000, 200, 86_400_000),
      // Up to a day: the report follows the projection, and a flag only matters from the buyer's next request.
      abuseWatchIntervalMs: read.integer('WORKER_ABUSE_WATCH_INTERVAL_MS', 60_000, 100, 86_400_000),
    },
    policyDefaults: policy.ok ? policy.overrides : {},
  };

  // A deadline enters the horizon at one pass and must have its job before it is due, a period (and a pass) later at most.
  const { reconcileIntervalMs, scheduleHorizonMs } = config.worker;
  if (scheduleHorizonMs < 2 * reconcileIntervalMs)
    read.fail('WORKER_SCHEDULE_HORIZON_MS', `must be at least twice WORKER_RECONCILE_INTERVAL_MS (${2 * reconcileIntervalMs})`, String(scheduleHorizonMs));
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}

/**
 * The read models' SQLite file: beside SQLITE_PATH, `aftersales.db` →
 * `aftersales.read.db`. A file of its own, so projection batches never queue
 * behind the event store's commits for the one write lock of a file, nor the
 * other way round (docs/decisions.md).
 */
export function readModelsPath(sqlitePath: string): string {
  if (sqlitePath === ':memory:') return sqlitePath;
  return /\.db$/.test(sqlitePath) ? sqlitePath.replace(/\.db$/, '.read.db') : `${sqlitePath}.read.db`;
}

/** Every variable the service reads besides POLICY_* (API.md's configuration table, plus the ones README adds). */
export const CONFIG_VARIABLES = [
  'NODE_ENV',
  'LOG_LEVEL',
  'EVENT_STORE',
  'SQLITE_PATH',
  'EVENTSTORE_CONNECTION_STRING',
  'READ_STORE',
  'DATABASE_URL',
  'REDIS_URL',
  'HOST',
  'PORT',
  'AUTH_JWT_SECRET',
  'AUTH_JWT_ALGORITHM',
  'AUTH_JWT_PUBLIC_KEY',
  'AUTH_JWKS_URL',
  'AUTH_JWT_ISSUER',
  'AUTH_JWT_AUDIENCE',
  'INTEGRATION_WEBHOOK_SECRET',
  'PAYMENTS',
  'LOGISTICS',
  'PAYMENTS_URL',
  'LOGISTICS_URL',
  'SANDBOX_PAYMENT_SETTLE_MS',
  'SANDBOX_CALLBACK_URL',
  'WORKER_RECONCILE_INTERVAL_MS',
  'WORKER_SCHEDULE_HORIZON_MS',
  'WORKER_ABUSE_WATCH_INTERVAL_MS',
  'RATE_LIMIT_PER_MINUTE',
  'METRICS_TOKEN',
  'TRUST_PROXY',
] as const;

const IPV4_RANGE = /^(?:\d{1,3}\.){3}\d{1,3}(?:\/\d{1,2})?$/;
const IPV6_RANGE = /^[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(?:\/\d{1,3})?$/;

/**
 * TRUST_PROXY: unset or `false` trusts no proxy (the socket's address is the
 * client); a number trusts that many hops; otherwise a comma-separated list
 * of the load balancers' addresses or CIDR ranges. `true` (trust anyone's
 * X-Forwarded-For) is refused: any client could then pick its rate-limit bucket.
 */
function readTrustProxy(read: EnvReader): TrustProxy {
  const value = read.raw('TRUST_PROXY');
  if (value === undefined || value === 'false') return false;
  if (/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 10) return Number(value);
  const entries = value.split(',').map((entry) => entry.trim());
  if (entries.every((entry) => IPV4_RANGE.test(entry) || IPV6_RANGE.test(entry))) return entries;
  read.fail('TRUST_PROXY', 'must be false, a hop count from 1 to 10, or a comma-separated list of proxy addresses or CIDR ranges (e.g. 10.0.0.0/8)', value);
  return false;
}
