export * from './local-redis-server';
export * from './pending-work';
export * from './work-store';
export * from './work-queues';
export * from './case-work.reactor';
export * from './webhooks';
export * from './redis-connection';
