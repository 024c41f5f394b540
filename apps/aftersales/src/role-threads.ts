import { Logger } from '@nestjs/common';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Companions } from '../../api/src/main';
import type { FromRoleThread, RoleThreadData, ThreadRole, ToRoleThread } from './role-protocol';

/** How long a scrape waits for a role's metrics before leaving them out. */
const METRICS_TIMEOUT_MS = 2000;
/** How long a role may take to stop (its active jobs finishing) before its thread is ended. */
const STOP_TIMEOUT_MS = 6000;

class RoleThread {
  private readonly worker: Worker;
  private readonly pendingMetrics = new Map<number, (text: string) => void>();
  private nextMetricsId = 0;
  private stopping = false;
  readonly ready: Promise<void>;
  readonly exited: Promise<number>;

  constructor(
    readonly role: ThreadRole,
    redisUrl: string,
    onFailure: (error: Error) => void,
  ) {
    const data: RoleThreadData = { role, redisUrl };
    this.worker = new Worker(join(__dirname, 'role-thread.js'), { workerData: data, name: role });
    this.exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (message: FromRoleThread) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'metrics') this.pendingMetrics.get(message.id)?.(message.text);
        else if (message.type === 'failed') {
          const error = new Error(`the ${role} thread failed: ${message.error}`);
          reject(error);
          if (!this.stopping) onFailure(error);
        }
      });
      this.worker.once('error', (error) => {
        reject(error);
        if (!this.stopping) onFailure(new Error(`the ${role} thread crashed: ${error.stack ?? error.message}`));
      });
      void this.exited.then((code) => {
        reject(new Error(`the ${role} thread exited (code ${code}) before it was ready`));
        if (!this.stopping) onFailure(new Error(`the ${role} thread exited (code ${code})`));
      });
    });
    // A rejection seen by no one yet (the thread failed while the API was still starting) is reported through `ready`.
    this.ready.catch(() => undefined);
  }

  metrics(): Promise<string> {
    const id = ++this.nextMetricsId;
    return new Promise((resolve) => {
      const done = (text: string): void => {
        clearTimeout(timer);
        this.pendingMetrics.delete(id);
        resolve(text);
      };
      const timer = setTimeout(() => done(''), METRICS_TIMEOUT_MS);
      this.pendingMetrics.set(id, done);
      this.post({ type: 'metrics', id });
    });
  }

  async stop(): Promise<void> {
    if (this.stopping) return this.exited.then(() => undefined);
    this.stopping = true;
    this.post({ type: 'stop' });
    const timer = setTimeout(() => void this.worker.terminate(), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  private post(message: ToRoleThread): void {
    try {
      this.worker.postMessage(message);
    } catch {
      // The thread is gone: its exit is reported through `exited`.
    }
  }
}

/**
 * The worker and the projector of `npm start`, each in a thread of its own:
 * still one process (ARCHITECTURE.md rule 8's embedded default), but each
 * role on its own event loop, so the API's answers do not wait behind the
 * projections catching up or a burst of deadlines falling due, and a
 * second core is used. Every thread opens its own connections to the same
 * SQLite file and Redis, as separate processes would; the event store tells
 * the other threads of each durable commit (see SqliteEventStore), so they
 * react without waiting for their poll. A role thread that fails stops the
 * service: running without its worker would leave every deadline unfired.
 */
export async function startRoleThreads(redisUrl: string, onFailure: (error: Error) => void): Promise<Companions> {
  const threads = (['worker', 'projector'] as const).map((role) => new RoleThread(role, redisUrl, onFailure));
  const logger = new Logger('RoleThreads');
  try {
    await Promise.all(threads.map((thread) => thread.ready));
  } catch (error) {
    await Promise.all(threads.map((thread) => thread.stop()));
    throw error;
  }
  logger.log(`worker and projector running in threads of their own`);
  return {
    metrics: async () => (await Promise.all(threads.map((thread) => thread.metrics()))).filter((text) => text !== '').join('\n'),
    stop: async () => {
      await Promise.all(threads.map((thread) => thread.stop()));
    },
  };
}
