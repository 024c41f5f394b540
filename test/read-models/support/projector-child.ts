// A projector process of its own for the takeover tests: runs the case
// projections on the given event store file and read store, and says on
// stdout when it becomes active and how far it got. Killed by the test.
import 'reflect-metadata';
import { SqliteEventStore } from '@aftersales/event-store';
import { migrateReadStore, openReadStore, PROJECTIONS, ProjectionRunner, projectionLock } from '@aftersales/read-models';

async function main(): Promise<void> {
  const [eventsPath, readStoreJson, maxBatch] = process.argv.slice(2);
  const events = new SqliteEventStore({ path: eventsPath });
  const store = openReadStore(JSON.parse(readStoreJson));
  await migrateReadStore(store);
  for (const projection of PROJECTIONS) {
    const runner = new ProjectionRunner(store, events, projection, projectionLock(store, projection.name, { retryMs: 50, leaseMs: 1000 }), {
      maxBatch: Number(maxBatch),
      retryDelayMs: 50,
      onStateChange: (name, state) => process.stdout.write(`${name} ${state}\n`),
    });
    runner.start();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
