import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACCEPTED_SIGNATURES, EVENT_STORE, InfrastructureModule, IntegrationsModule, type AcceptedSignatureStore } from '@aftersales/application';
import { loadConfig } from '@aftersales/config';
import type { EventStore } from '@aftersales/event-store';
import { LocalRedisServer } from '@aftersales/scheduling';

jest.setTimeout(30_000);

// With the SQLite event store, accepted callback signatures live in the
// events' file: the fsync that makes one durable is the event store's
// (durable()), one stream of fsyncs for the file rather than one per store.
describe('accepted signatures in the events file', () => {
  let dir: string;
  let redis: LocalRedisServer;
  let app: INestApplicationContext;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'accepted-signatures-fsync-'));
    redis = await LocalRedisServer.start({ dir: join(dir, 'redis'), persistent: false });
    const config = loadConfig({ LOG_LEVEL: 'silent', SQLITE_PATH: join(dir, 'aftersales.db'), REDIS_URL: redis.url });
    const moduleRef = await Test.createTestingModule({ imports: [InfrastructureModule.forRoot(config), IntegrationsModule] }).compile();
    moduleRef.useLogger(false);
    app = await moduleRef.init();
  });

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers an accepted signature after the event store's own fsync of the log", async () => {
    const events = app.get<EventStore>(EVENT_STORE);
    let release!: () => void;
    const durable = jest.spyOn(events, 'durable').mockImplementation(() => new Promise<void>((resolve) => (release = resolve)));
    const signatures = app.get<AcceptedSignatureStore>(ACCEPTED_SIGNATURES);
    let answered: boolean | undefined;
    const accepting = signatures.accept('sig-1', Date.now()).then((fresh) => (answered = fresh));
    await new Promise((resolve) => setImmediate(resolve));
    expect(durable).toHaveBeenCalledTimes(1);
    expect(answered).toBeUndefined();
    release();
    await accepting;
    expect(answered).toBe(true);
    durable.mockRestore();
    expect(await signatures.accept('sig-1', Date.now())).toBe(false);
  });
});
