export * from './local-redis-server';
