import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

/** A subscription as the delivery side knows it; `secret` only ever goes to the signer. */
export interface WebhookSubscription {
  webhookId: string;
  url: string;
  events: string[];
  secret: string;
  createdAt: string;
  /** Global position of its WebhookSubscribed: it gets the matching events after it. */
  position: number;
}

/** What an admin may see of a subscription: everything but the secret. */
export type WebhookListing = Omit<WebhookSubscription, 'secret' | 'position'>;

export interface Delivery {
  deliveryId: string;
  webhookId: string;
  caseId: string;
  position: number;
  eventId: string;
  type: string;
  /** The JSON body sent, as stored. */
  body: string;
  status: DeliveryStatus;
  /** Sends made in the current round. */
  attempts: number;
  /** Raised by each replay, so a replayed delivery's jobs are new jobs. */
  round: number;
  nextAttemptAt: number;
  lastError?: string;
  createdAt: number;
  finishedAt?: number;
}

export type NewDelivery = Pick<Delivery, 'deliveryId' | 'webhookId' | 'caseId' | 'position' | 'eventId' | 'type' | 'body'>;

/** One (webhook, case) pair: its deliveries go out one at a time, in log order. */
export interface Chain {
  webhookId: string;
  caseId: string;
}

/** The writes one batch of the log makes, in log order, applied inside the batch's transaction. */
export interface WebhookBatchWriter {
  /** Subscriptions active now, as this transaction sees them (earlier writes of the batch included). */
  active(): ReadonlyMap<string, WebhookSubscription>;
  subscribe(subscription: WebhookSubscription): void;
  /** Ends a subscription and drops what it still owed (pending and dead deliveries). */
  cancel(webhookId: string, at: string): void;
  /** A dead delivery goes back to pending, from attempt 0 in a new round; its chain, or undefined when it was not dead (already replayed, delivered, gone). */
  replay(deliveryId: string, at: number): Chain | undefined;
  addDelivery(delivery: NewDelivery, at: number): void;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS wh_checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS wh_subscriptions (
    webhook_id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL,
    position INTEGER NOT NULL,
    cancelled_at TEXT
  );
  CREATE TABLE IF NOT EXISTS wh_deliveries (
    delivery_id TEXT PRIMARY KEY,
    webhook_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    round INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS wh_deliveries_open_chain ON wh_deliveries (webhook_id, case_id, position) WHERE status <> 'delivered';
  CREATE INDEX IF NOT EXISTS wh_deliveries_by_status ON wh_deliveries (status, finished_at);
`;

interface DeliveryRow {
  delivery_id: string;
  webhook_id: string;
  case_id: string;
  position: number;
  event_id: string;
  type: string;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  round: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  finished_at: number | null;
}

interface SubscriptionRow {
  webhook_id: string;
  url: string;
  events: string;
  secret: string;
  created_at: string;
  position: number;
}

const toDelivery = (r: DeliveryRow): Delivery => ({
  deliveryId: r.delivery_id,
  webhookId: r.webhook_id,
  caseId: r.case_id,
  position: r.position,
  eventId: r.event_id,
  type: r.type,
  body: r.body,
  status: r.status,
  attempts: r.attempts,
  round: r.round,
  nextAttemptAt: r.next_attempt_at,
  ...(r.last_error !== null ? { lastError: r.last_error } : {}),
  createdAt: r.created_at,
  ...(r.finished_at !== null ? { finishedAt: r.finished_at } : {}),
});

const toSubscription = (r: SubscriptionRow): WebhookSubscription => ({
  webhookId: r.webhook_id,
  url: r.url,
  events: JSON.parse(r.events) as string[],
  secret: r.secret,
  createdAt: r.created_at,
  position: r.position,
});

const ERROR_LIMIT = 500;

/**
 * Outbound webhooks' durable state, in the service's SQLite file beside the
 * worker's (own `wh_*` tables, own connection): the reactor's checkpoint,
 * the subscriptions as the log has them, and one row per delivery owed.
 * Redis only holds the jobs that act on these rows; the reconciler rebuilds
 * them from here.
 *
 * Every change to a delivery is a compare-and-set on its round and attempt
 * count, so of two jobs that raced on one attempt (a duplicate, a job Redis
 * lost and the reconciler re-created) one records it and the other sees it
 * is stale.
 */
export class WebhookStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { timeout: 5000 });
    this.db.pragma('journal_mode = WAL');
    // The rows derive from the log; a commit a power cut takes back is redone from the checkpoint with it.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
  }

  checkpoint(name: string): number {
    const row = this.db.prepare('SELECT position FROM wh_checkpoints WHERE name = ?').get(name) as { position: number } | undefined;
    return row?.position ?? 0;
  }

  /**
   * Applies one batch of the log with its checkpoint, in one IMMEDIATE
   * transaction that first reads the stored checkpoint: `write` is handed
   * only when the batch is new (several processes may follow the log), and
   * gets the checkpoint as stored, to skip events already applied.
   * Returns what `write` returned, or undefined when the batch was applied
   * already.
   */
  apply<T>(name: string, position: number, write: (writer: WebhookBatchWriter, storedCheckpoint: number) => T): T | undefined {
    const run = this.db.transaction((): T | undefined => {
      const stored = this.checkpoint(name);
      if (stored >= position) return undefined;
      const result = write(this.batchWriter(), stored);
      this.db
        .prepare('INSERT INTO wh_checkpoints (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position')
        .run(name, position);
      return result;
    });
    return run.immediate();
  }

  private batchWriter(): WebhookBatchWriter {
    const active = new Map(
      (this.db.prepare('SELECT webhook_id, url, events, secret, created_at, position FROM wh_subscriptions WHERE cancelled_at IS NULL').all() as SubscriptionRow[]).map(
        (r): [string, WebhookSubscription] => [r.webhook_id, toSubscription(r)],
      ),
    );
    const insertSubscription = this.db.prepare(
      'INSERT OR IGNORE INTO wh_subscriptions (webhook_id, url, events, secret, created_at, position) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const insertDelivery = this.db.prepare(
      `INSERT OR IGNORE INTO wh_deliveries (delivery_id, webhook_id, case_id, position, event_id, type, body, status, attempts, round, next_attempt_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, 0, ?, ?)`,
    );
    return {
      active: () => active,
      subscribe: (s) => {
        const inserted = insertSubscription.run(s.webhookId, s.url, JSON.stringify(s.events), s.secret, s.createdAt, s.position).changes > 0;
        if (inserted) active.set(s.webhookId, s);
      },
      cancel: (webhookId, at) => {
        this.db.prepare('UPDATE wh_subscriptions SET cancelled_at = ? WHERE webhook_id = ? AND cancelled_at IS NULL').run(at, webhookId);
        this.db.prepare("DELETE FROM wh_deliveries WHERE webhook_id = ? AND status <> 'delivered'").run(webhookId);
        active.delete(webhookId);
      },
      replay: (deliveryId, at) => {
        const row = this.db
          .prepare(
            `UPDATE wh_deliveries SET status = 'pending', attempts = 0, round = round + 1, next_attempt_at = ?, finished_at = NULL
             WHERE delivery_id = ? AND status = 'dead' RETURNING webhook_id, case_id`,
          )
          .get(at, deliveryId) as { webhook_id: string; case_id: string } | undefined;
        return row ? { webhookId: row.webhook_id, caseId: row.case_id } : undefined;
      },
      addDelivery: (d, at) => {
        insertDelivery.run(d.deliveryId, d.webhookId, d.caseId, d.position, d.eventId, d.type, d.body, at, at);
      },
    };
  }

  /** The subscription, with its secret, while it is active. */
  subscription(webhookId: string): WebhookSubscription | undefined {
    const row = this.db
      .prepare('SELECT webhook_id, url, events, secret, created_at, position FROM wh_subscriptions WHERE webhook_id = ? AND cancelled_at IS NULL')
      .get(webhookId) as SubscriptionRow | undefined;
    return row ? toSubscription(row) : undefined;
  }

  /** Active subscriptions, oldest first, without their secrets (the column is not even read). */
  listSubscriptions(): WebhookListing[] {
    const rows = this.db
      .prepare('SELECT webhook_id, url, events, created_at FROM wh_subscriptions WHERE cancelled_at IS NULL ORDER BY position')
      .all() as Omit<SubscriptionRow, 'secret' | 'position'>[];
    return rows.map((r) => ({ webhookId: r.webhook_id, url: r.url, events: JSON.parse(r.events) as string[], createdAt: r.created_at }));
  }

  delivery(deliveryId: string): Delivery | undefined {
    const row = this.db.prepare('SELECT * FROM wh_deliveries WHERE delivery_id = ?').get(deliveryId) as DeliveryRow | undefined;
    return row ? toDelivery(row) : undefined;
  }

  /** The oldest delivery of the chain not yet delivered (pending, or dead and holding the chain), if any. */
  head(chain: Chain): Delivery | undefined {
    const row = this.db
      .prepare("SELECT * FROM wh_deliveries WHERE webhook_id = ? AND case_id = ? AND status <> 'delivered' ORDER BY position LIMIT 1")
      .get(chain.webhookId, chain.caseId) as DeliveryRow | undefined;
    return row ? toDelivery(row) : undefined;
  }

  /**
   * Chains whose head is pending (a send is owed), a page at a time in
   * (webhook, case) order: what the reconciler makes sure has a job.
   */
  pendingHeads(after: Chain | undefined, limit: number): Delivery[] {
    const rows = this.db
      .prepare(
        `SELECT d.* FROM (
           SELECT webhook_id, case_id, MIN(position) AS position FROM wh_deliveries
           WHERE status <> 'delivered' AND (webhook_id, case_id) > (?, ?)
           GROUP BY webhook_id, case_id ORDER BY webhook_id, case_id LIMIT ?
         ) h JOIN wh_deliveries d ON d.webhook_id = h.webhook_id AND d.case_id = h.case_id AND d.position = h.position
         ORDER BY d.webhook_id, d.case_id`,
      )
      .all(after?.webhookId ?? '', after?.caseId ?? '', limit) as DeliveryRow[];
    return rows.map(toDelivery);
  }

  /** Records a send the receiver accepted; false when this attempt was already recorded (a duplicate job). */
  recordDelivered(delivery: Delivery, at: number): boolean {
    return (
      this.db
        .prepare(
          `UPDATE wh_deliveries SET status = 'delivered', attempts = attempts + 1, finished_at = ?, last_error = NULL
           WHERE delivery_id = ? AND status = 'pending' AND round = ? AND attempts = ?`,
        )
        .run(at, delivery.deliveryId, delivery.round, delivery.attempts).changes > 0
    );
  }

  /**
   * Records a failed send: the delivery stays pending until `retryAt`, or
   * with `retryAt` undefined becomes a dead letter. False when this attempt
   * was already recorded.
   */
  recordFailed(delivery: Delivery, error: string, at: number, retryAt: number | undefined): boolean {
    const status: DeliveryStatus = retryAt === undefined ? 'dead' : 'pending';
    return (
      this.db
        .prepare(
          `UPDATE wh_deliveries SET status = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ?, finished_at = ?
           WHERE delivery_id = ? AND status = 'pending' AND round = ? AND attempts = ?`,
        )
        .run(status, error.slice(0, ERROR_LIMIT), retryAt ?? at, retryAt === undefined ? at : null, delivery.deliveryId, delivery.round, delivery.attempts)
        .changes > 0
    );
  }

  /** Dead letters, oldest first, optionally of one webhook. */
  deadLetters(options: { webhookId?: string; limit: number }): Delivery[] {
    const rows = (
      options.webhookId !== undefined
        ? this.db
            .prepare("SELECT * FROM wh_deliveries WHERE status = 'dead' AND webhook_id = ? ORDER BY finished_at, delivery_id LIMIT ?")
            .all(options.webhookId, options.limit)
        : this.db.prepare("SELECT * FROM wh_deliveries WHERE status = 'dead' ORDER BY finished_at, delivery_id LIMIT ?").all(options.limit)
    ) as DeliveryRow[];
    return rows.map(toDelivery);
  }

  /** Counts by status, for /metrics. */
  counts(): Record<DeliveryStatus, number> {
    const counts: Record<DeliveryStatus, number> = { pending: 0, delivered: 0, dead: 0 };
    for (const row of this.db.prepare('SELECT status, count(*) AS n FROM wh_deliveries GROUP BY status').all() as { status: DeliveryStatus; n: number }[]) {
      counts[row.status] = row.n;
    }
    return counts;
  }

  /** Forgets deliveries delivered before `before` (kept a while for looking into a receiver's complaints). */
  pruneDelivered(before: number): number {
    return this.db.prepare("DELETE FROM wh_deliveries WHERE status = 'delivered' AND finished_at < ?").run(before).changes;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
