import { ConfigError, loadConfig } from '@aftersales/config';
import { EventStoreDbEventStore, SqliteEventStore, type EventStore } from '@aftersales/event-store';
import { migrateReadStore, openReadStore } from '@aftersales/read-models';
import { PROJECTIONS_USAGE, parseProjectionsArguments, projectionsStatus, runRebuild } from './projections-command';
import { UsageError } from './token-command';

/** `npm run cli -- projections status | rebuild [name]`, on the stores the configuration names. `argv` may start with `projections`. */
export async function main(argv: readonly string[]): Promise<number> {
  let request;
  try {
    request = parseProjectionsArguments(argv[0] === 'projections' ? argv.slice(1) : argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`projections: ${error.message}\n\n${PROJECTIONS_USAGE}\n`);
    return 2;
  }
  if (request === 'help') {
    process.stdout.write(`${PROJECTIONS_USAGE}\n`);
    return 0;
  }
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`projections: ${error.message}\n`);
    return 1;
  }
  const events: EventStore =
    config.eventStore.kind === 'eventstoredb'
      ? new EventStoreDbEventStore({ connectionString: config.eventStore.connectionString })
      : new SqliteEventStore({ path: config.eventStore.sqlitePath });
  const store = openReadStore(config.readStore);
  try {
    await migrateReadStore(store);
    if (request.command === 'status') {
      process.stdout.write(`${await projectionsStatus(store, events)}\n`);
    } else {
      const summary = await runRebuild(store, events, request.names, { write: (text) => process.stderr.write(text), isTTY: process.stderr.isTTY });
      process.stdout.write(`${summary}\n`);
    }
    return 0;
  } finally {
    await store.close();
    await events.close();
  }
}

// Run directly (node dist/apps/cli/src/projections.js); cli.ts imports main instead.
if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`projections: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
