import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { CompiledQuery } from 'kysely';
import { Client } from 'pg';
import { ADVISORY_LOCK_CLASS } from '../store/migrations';
import { pgTypes, type ReadStore } from '../store/read-store';
import { writeTransaction } from '../store/write-transaction';

/** Another process runs the projection now: the batch in hand must not be stored. */
export class LockLostError extends Error {
  constructor(name: string) {
    super(`Projection ${name}: another projector has taken over`);
    this.name = 'LockLostError';
  }
}

/**
 * Who runs a projection when several projector processes do (ARCHITECTURE.md
 * rule 8): one active instance per projection, the others waiting to take
 * over. Even if two ever wrote at once, the checkpoint guard in the batch's
 * transaction keeps them from applying an event twice; the lock keeps them
 * from doing the work twice.
 */
export interface ProjectionLock {
  /** Waits until this process holds the lock; false when `stopped()` turned true first. */
  acquire(stopped: () => boolean): Promise<boolean>;
  /** Resolves once a lock this process held is lost (a fresh promise after each acquire). */
  readonly lost: Promise<void>;
  /** Whether this process still holds the lock, as far as it knows. */
  readonly held: boolean;
  /**
   * A statement for the batch's transaction that renews the lock: when it
   * changes no row, the lock is gone and the batch must not be stored.
   * Undefined when the lock needs no renewing (`held` says it all).
   */
  fenceStatement(): CompiledQuery | undefined;
  /** The batch's fence found the lock gone. */
  markLost(): void;
  release(): Promise<void>;
}

export interface LockTiming {
  /** How often a waiting process tries again (default 1 s). */
  retryMs?: number;
  /** SQLite: how long a lease lasts without renewal; a dead holder is replaced after at most this (default 10 s). */
  leaseMs?: number;
}

export const lockOwnerId = (): string => `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

export function projectionLock(store: ReadStore, name: string, timing: LockTiming = {}): ProjectionLock {
  return store.dialect === 'postgres' ? new AdvisoryLock(store.databaseUrl ?? '', name, timing) : new SqliteLease(store, name, timing);
}

/**
 * SQLite: a lease row (`rm_leases`) renewed a few times per lease period;
 * one that has run out may be taken by anyone. Every batch renews it in its
 * own transaction, so a holder that stalled past its lease stores nothing.
 */
class SqliteLease implements ProjectionLock {
  private readonly owner = lockOwnerId();
  private readonly retryMs: number;
  private readonly leaseMs: number;
  private renewTimer?: NodeJS.Timeout;
  held = false;
  private signalLost: () => void = () => undefined;
  lost: Promise<void> = new Promise(() => undefined);

  constructor(
    private readonly store: ReadStore,
    private readonly name: string,
    timing: LockTiming,
  ) {
    this.retryMs = timing.retryMs ?? 1000;
    this.leaseMs = timing.leaseMs ?? 10_000;
  }

  async acquire(stopped: () => boolean): Promise<boolean> {
    while (!stopped()) {
      // A busy or failing file is a lease not taken this time, never the end of the wait.
      if (await this.tryTake().catch(() => false)) {
        this.held = true;
        this.lost = new Promise((resolve) => (this.signalLost = resolve));
        clearInterval(this.renewTimer);
        this.renewTimer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.leaseMs / 3)));
        this.renewTimer.unref();
        return true;
      }
      await sleep(this.retryMs);
    }
    return false;
  }

  fenceStatement(): CompiledQuery {
    return this.renewal().compile();
  }

  markLost(): void {
    if (!this.held) return;
    this.held = false;
    clearInterval(this.renewTimer);
    this.signalLost();
  }

  async release(): Promise<void> {
    clearInterval(this.renewTimer);
    if (!this.held) return;
    this.held = false;
    // A clean stop hands over at once instead of after the lease runs out.
    const { db } = this.store;
    const remove = db.deleteFrom('rm_leases').where('name', '=', this.name).where('owner', '=', this.owner).compile();
    await writeTransaction(this.store, function* () {
      yield remove;
    }).catch(() => undefined);
  }

  private async tryTake(): Promise<boolean> {
    const { db } = this.store;
    const { name, owner, leaseMs } = this;
    return writeTransaction(this.store, function* () {
      const now = Date.now();
      const lease = (yield db.selectFrom('rm_leases').select(['owner', 'expires_at']).where('name', '=', name).compile()).rows[0] as
        | { owner: string; expires_at: number }
        | undefined;
      if (lease && lease.owner !== owner && Number(lease.expires_at) > now) return false;
      yield db
        .insertInto('rm_leases')
        .values({ name, owner, expires_at: now + leaseMs })
        .onConflict((oc) => oc.column('name').doUpdateSet({ owner, expires_at: now + leaseMs }))
        .compile();
      return true;
    });
  }

  private renewal() {
    return this.store.db.updateTable('rm_leases').set({ expires_at: Date.now() + this.leaseMs }).where('name', '=', this.name).where('owner', '=', this.owner);
  }

  private async renew(): Promise<void> {
    if (!this.held) return;
    const renewal = this.renewal().compile();
    try {
      const changed = await writeTransaction(this.store, function* () {
        return (yield renewal).changed;
      });
      if (changed === 0) this.markLost();
    } catch {
      // A busy file this time: the next renewal (or the batch's fence) decides.
    }
  }
}

/**
 * PostgreSQL: a session advisory lock on a connection of its own. The
 * server releases it when that connection ends, so a killed projector's
 * lock goes with its socket and a waiting one takes over.
 */
class AdvisoryLock implements ProjectionLock {
  private readonly retryMs: number;
  private client?: Client;
  held = false;
  private signalLost: () => void = () => undefined;
  lost: Promise<void> = new Promise(() => undefined);

  constructor(
    private readonly databaseUrl: string,
    private readonly name: string,
    timing: LockTiming,
  ) {
    this.retryMs = timing.retryMs ?? 1000;
  }

  async acquire(stopped: () => boolean): Promise<boolean> {
    while (!stopped()) {
      try {
        const client = await this.connection();
        const result = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1, hashtext($2)) as locked', [ADVISORY_LOCK_CLASS, `projection:${this.name}`]);
        if (result.rows[0]?.locked) {
          this.held = true;
          this.lost = new Promise((resolve) => (this.signalLost = resolve));
          return true;
        }
      } catch {
        await this.dropConnection();
      }
      await sleep(this.retryMs);
    }
    return false;
  }

  fenceStatement(): undefined {
    return undefined;
  }

  markLost(): void {
    if (!this.held) return;
    this.held = false;
    this.signalLost();
    void this.dropConnection();
  }

  async release(): Promise<void> {
    this.held = false;
    await this.dropConnection();
  }

  private async connection(): Promise<Client> {
    if (this.client) return this.client;
    const client = new Client({ connectionString: this.databaseUrl, types: pgTypes });
    client.on('error', () => this.lose(client));
    client.on('end', () => this.lose(client));
    await client.connect();
    this.client = client;
    return client;
  }

  private lose(client: Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.markLost();
  }

  private async dropConnection(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
