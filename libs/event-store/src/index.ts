export * from './event-store';
export * from './errors';
export { validateStreamName } from './validation';
export { SqliteEventStore, type SqliteEventStoreOptions, type GroupCommitStats } from './sqlite-event-store';
export { EventStoreDbEventStore, type EventStoreDbEventStoreOptions } from './eventstoredb-event-store';
export { WalFileSync } from './wal-file-sync';
export { LogFollower, type LogFollowerOptions } from './log-follower';
