import { hostname } from 'node:os';
import type { ConnectionOptions } from 'bullmq';

/**
 * BullMQ's connection options from REDIS_URL. BullMQ opens its own
 * connections from these (a blocking one per worker), so none is shared
 * with the rest of the process.
 */
export function bullConnection(redisUrl: string): ConnectionOptions {
  const url = new URL(redisUrl);
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 6379,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
    tls: url.protocol === 'rediss:' ? {} : undefined,
    // Workers block on Redis; BullMQ requires this to be null on their connections.
    maxRetriesPerRequest: null,
  };
}

/** This process's name among BullMQ workers (a job records who ran it: `processedBy`). */
export const WORKER_NAME = `${hostname()}-${process.pid}`;
