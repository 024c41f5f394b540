import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '@aftersales/config';

// No Docker engine runs where the tests run, so the compose file is checked
// as data: the services it promises and the variables the service reads.
interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(readFileSync(join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
};

describe('docker-compose.yml', () => {
  const { services } = compose;

  it('runs EventStoreDB as an insecure single node for development', () => {
    expect(services.eventstoredb.image).toMatch(/^eventstore\/eventstore:/);
    expect(services.eventstoredb.environment).toMatchObject({ EVENTSTORE_CLUSTER_SIZE: '1', EVENTSTORE_INSECURE: 'true' });
  });

  it('runs Redis with AOF persistence and no eviction', () => {
    const command = services.redis.command?.join(' ') ?? '';
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--maxmemory-policy noeviction/);
  });

  it('runs no PostgreSQL while nothing reads it', () => {
    expect(services.postgres).toBeUndefined();
  });

  it('takes both secrets from the environment, so no sample secret can reach production', () => {
    const environment = services.aftersales.environment ?? {};
    expect(environment.AUTH_JWT_SECRET).toMatch(/^\$\{AUTH_JWT_SECRET:\?/);
    expect(environment.INTEGRATION_WEBHOOK_SECRET).toMatch(/^\$\{INTEGRATION_WEBHOOK_SECRET:\?/);
  });

  it('configures the service for EventStoreDB and that Redis, with names the service reads', () => {
    const service = services.aftersales;
    // What `docker compose` hands the service once the two secrets are given.
    const environment = Object.fromEntries(
      Object.entries(service.environment ?? {}).map(([name, value]) => [name, value.startsWith('${') ? `${name.toLowerCase()}-of-the-operator-0123456789` : value]),
    );
    expect(service.build).toBeDefined();
    expect(environment).toMatchObject({ EVENT_STORE: 'eventstoredb', NODE_ENV: 'production' });
    for (const name of Object.keys(environment)) {
      expect({ name, known: (CONFIG_VARIABLES as readonly string[]).includes(name) || name.startsWith('POLICY_') }).toEqual({ name, known: true });
    }
    const config = loadConfig(environment);
    expect(config.eventStore).toMatchObject({ kind: 'eventstoredb', connectionString: expect.stringContaining('eventstoredb:2113') });
    expect(config.redisUrl).toBe('redis://redis:6379');
    expect(Object.keys(service.depends_on ?? {}).sort()).toEqual(['eventstoredb', 'redis']);
  });
});
