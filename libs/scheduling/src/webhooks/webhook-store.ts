import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { WAL_AUTOCHECKPOINT_BACKSTOP_PAGES } from '../work-store';

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
  subscribe(subscription: WebhookSubscription): void;
  /** Ends a subscription and drops what it still owed (pending and dead deliveries). */
  cancel(webhookId: string, at: string): void;
  /** A dead delivery goes back to pending, from attempt 0 in a new round; its chain, or undefined when it was not dead (already replayed, delivered, gone). */
  replay(deliveryId: string, at: number): Chain | undefined;
  addDelivery(delivery: NewDelivery, at: number): void;
}

/** Where a follower of the log resumes: its checkpoint and the subscriptions as of it. */
export interface WebhookResumePoint {
  checkpoint: number;
  /** Subscriptions active at the checkpoint. */
  active: WebhookSubscription[];
  /** Every webhook id ever subscribed, cancelled ones included: a second WebhookSubscribed of one id changes nothing. */
  known: string[];
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
 * Beside the reactor's checkpoint in wh_checkpoints: the position of the
 * last subscription change (WebhookSubscribed, WebhookCancelled) the API
 * appended, from whichever API process. A list of subscriptions is current
 * for every change made before it once the reactor's checkpoint reaches it.
 */
const SUBSCRIPTION_CHANGES = 'api-subscription-changes';

const SUBSCRIPTION_COLUMNS = 'webhook_id, url, events, secret, created_at, position';

/** Every statement the store runs, prepared once: preparing is most of the cost of a small statement. */
function prepareStatements(db: Database.Database) {
  return {
    checkpoint: db.prepare<[string], { position: number }>('SELECT position FROM wh_checkpoints WHERE name = ?'),
    // Never backwards: several processes store the same checkpoint, one may be behind another.
    storeCheckpoint: db.prepare<[string, number]>(
      'INSERT INTO wh_checkpoints (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = max(position, excluded.position)',
    ),
    activeSubscriptions: db.prepare<[], SubscriptionRow>(`SELECT ${SUBSCRIPTION_COLUMNS} FROM wh_subscriptions WHERE cancelled_at IS NULL`),
    subscriptionIds: db.prepare<[], { webhook_id: string }>('SELECT webhook_id FROM wh_subscriptions'),
    subscription: db.prepare<[string], SubscriptionRow>(`SELECT ${SUBSCRIPTION_COLUMNS} FROM wh_subscriptions WHERE webhook_id = ? AND cancelled_at IS NULL`),
    listSubscriptions: db.prepare<[], Omit<SubscriptionRow, 'secret' | 'position'>>(
      'SELECT webhook_id, url, events, created_at FROM wh_subscriptions WHERE cancelled_at IS NULL ORDER BY position',
    ),
    insertSubscription: db.prepare<[string, string, string, string, string, number]>(
      `INSERT OR IGNORE INTO wh_subscriptions (${SUBSCRIPTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    cancelSubscription: db.prepare<[string, string]>('UPDATE wh_subscriptions SET cancelled_at = ? WHERE webhook_id = ? AND cancelled_at IS NULL'),
    dropOwed: db.prepare<[string]>("DELETE FROM wh_deliveries WHERE webhook_id = ? AND status <> 'delivered'"),
    replay: db.prepare<[number, string], { webhook_id: string; case_id: string }>(
      `UPDATE wh_deliveries SET status = 'pending', attempts = 0, round = round + 1, next_attempt_at = ?, finished_at = NULL
       WHERE delivery_id = ? AND status = 'dead' RETURNING webhook_id, case_id`,
    ),
    insertDelivery: db.prepare<[string, string, string, number, string, string, string, number, number]>(
      `INSERT OR IGNORE INTO wh_deliveries (delivery_id, webhook_id, case_id, position, event_id, type, body, status, attempts, round, next_attempt_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, 0, ?, ?)`,
    ),
    delivery: db.prepare<[string], DeliveryRow>('SELECT * FROM wh_deliveries WHERE delivery_id = ?'),
    head: db.prepare<[string, string], DeliveryRow>(
      "SELECT * FROM wh_deliveries WHERE webhook_id = ? AND case_id = ? AND status <> 'delivered' ORDER BY position LIMIT 1",
    ),
    pendingHeads: db.prepare<[string, string, number], DeliveryRow>(
      `SELECT d.* FROM (
         SELECT webhook_id, case_id, MIN(position) AS position FROM wh_deliveries
         WHERE status <> 'delivered' AND (webhook_id, case_id) > (?, ?)
         GROUP BY webhook_id, case_id ORDER BY webhook_id, case_id LIMIT ?
       ) h JOIN wh_deliveries d ON d.webhook_id = h.webhook_id AND d.case_id = h.case_id AND d.position = h.position
       ORDER BY d.webhook_id, d.case_id`,
    ),
    recordDelivered: db.prepare<[number, string, number, number]>(
      `UPDATE wh_deliveries SET status = 'delivered', attempts = attempts + 1, finished_at = ?, last_error = NULL
       WHERE delivery_id = ? AND status = 'pending' AND round = ? AND attempts = ?`,
    ),
    recordFailed: db.prepare<[DeliveryStatus, string, number, number | null, string, number, number]>(
      `UPDATE wh_deliveries SET status = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ?, finished_at = ?
       WHERE delivery_id = ? AND status = 'pending' AND round = ? AND attempts = ?`,
    ),
    deadLetters: db.prepare<[number], DeliveryRow>("SELECT * FROM wh_deliveries WHERE status = 'dead' ORDER BY finished_at, delivery_id LIMIT ?"),
    deadLettersOf: db.prepare<[string, number], DeliveryRow>(
      "SELECT * FROM wh_deliveries WHERE status = 'dead' AND webhook_id = ? ORDER BY finished_at, delivery_id LIMIT ?",
    ),
    counts: db.prepare<[], { status: DeliveryStatus; n: number }>('SELECT status, count(*) AS n FROM wh_deliveries GROUP BY status'),
    pruneDelivered: db.prepare<[number]>("DELETE FROM wh_deliveries WHERE status = 'delivered' AND finished_at < ?"),
  };
}

type BatchWrite = (writer: WebhookBatchWriter, storedCheckpoint: number) => unknown;

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
  private readonly sql: ReturnType<typeof prepareStatements>;
  private readonly writer: WebhookBatchWriter;
  private readonly applyBatch: Database.Transaction<(name: string, position: number, write: BatchWrite) => unknown>;
  private readonly readResumePoint: Database.Transaction<(name: string) => WebhookResumePoint>;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { timeout: 5000 });
    this.db.pragma('journal_mode = WAL');
    // The rows derive from the log; a commit a power cut takes back is redone from the checkpoint with it.
    this.db.pragma('synchronous = NORMAL');
    // As the work store's connection: the log is copied back by the event store's thread, not in this connection's COMMITs.
    this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_BACKSTOP_PAGES}`);
    this.db.exec(SCHEMA);
    const sql = (this.sql = prepareStatements(this.db));
    this.writer = {
      subscribe: (s) => {
        sql.insertSubscription.run(s.webhookId, s.url, JSON.stringify(s.events), s.secret, s.createdAt, s.position);
      },
      cancel: (webhookId, at) => {
        sql.cancelSubscription.run(at, webhookId);
        sql.dropOwed.run(webhookId);
      },
      replay: (deliveryId, at) => {
        const row = sql.replay.get(at, deliveryId);
        return row ? { webhookId: row.webhook_id, caseId: row.case_id } : undefined;
      },
      addDelivery: (d, at) => {
        sql.insertDelivery.run(d.deliveryId, d.webhookId, d.caseId, d.position, d.eventId, d.type, d.body, at, at);
      },
    };
    this.applyBatch = this.db.transaction((name: string, position: number, write: BatchWrite) => {
      const stored = this.checkpoint(name);
      if (stored >= position) return undefined;
      const result = write(this.writer, stored);
      sql.storeCheckpoint.run(name, position);
      return result;
    });
    // One read transaction: the subscriptions as of exactly the checkpoint read with them.
    this.readResumePoint = this.db.transaction((name: string) => ({
      checkpoint: this.checkpoint(name),
      active: sql.activeSubscriptions.all().map(toSubscription),
      known: sql.subscriptionIds.all().map((r) => r.webhook_id),
    }));
  }

  checkpoint(name: string): number {
    return this.sql.checkpoint.get(name)?.position ?? 0;
  }

  /**
   * Notes that a subscription change was appended at `position` (never
   * moves back): the API calls it after each append, before it answers.
   */
  noteSubscriptionChange(position: number): void {
    this.sql.storeCheckpoint.run(SUBSCRIPTION_CHANGES, position);
  }

  /** The position of the last subscription change noted, 0 when none: what a list waits for the reactor to reach. */
  lastSubscriptionChange(): number {
    return this.checkpoint(SUBSCRIPTION_CHANGES);
  }

  /** The checkpoint with the subscriptions as of it, for a follower of the log to resume from. */
  resumePoint(name: string): WebhookResumePoint {
    return this.readResumePoint(name);
  }

  /**
   * Moves the checkpoint forward (never back) with nothing else: for a
   * stretch of the log that needed no write. One statement, no read first.
   */
  storeCheckpoint(name: string, position: number): void {
    this.sql.storeCheckpoint.run(name, position);
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
    return this.applyBatch.immediate(name, position, write) as T | undefined;
  }

  /** The subscription, with its secret, while it is active. */
  subscription(webhookId: string): WebhookSubscription | undefined {
    const row = this.sql.subscription.get(webhookId);
    return row ? toSubscription(row) : undefined;
  }

  /** Active subscriptions, oldest first, without their secrets (the column is not even read). */
  listSubscriptions(): WebhookListing[] {
    return this.sql.listSubscriptions
      .all()
      .map((r) => ({ webhookId: r.webhook_id, url: r.url, events: JSON.parse(r.events) as string[], createdAt: r.created_at }));
  }

  delivery(deliveryId: string): Delivery | undefined {
    const row = this.sql.delivery.get(deliveryId);
    return row ? toDelivery(row) : undefined;
  }

  /** The oldest delivery of the chain not yet delivered (pending, or dead and holding the chain), if any. */
  head(chain: Chain): Delivery | undefined {
    const row = this.sql.head.get(chain.webhookId, chain.caseId);
    return row ? toDelivery(row) : undefined;
  }

  /**
   * Chains whose head is pending (a send is owed), a page at a time in
   * (webhook, case) order: what the reconciler makes sure has a job.
   */
  pendingHeads(after: Chain | undefined, limit: number): Delivery[] {
    return this.sql.pendingHeads.all(after?.webhookId ?? '', after?.caseId ?? '', limit).map(toDelivery);
  }

  /** Records a send the receiver accepted; false when this attempt was already recorded (a duplicate job). */
  recordDelivered(delivery: Delivery, at: number): boolean {
    return this.sql.recordDelivered.run(at, delivery.deliveryId, delivery.round, delivery.attempts).changes > 0;
  }

  /**
   * Records a failed send: the delivery stays pending until `retryAt`, or
   * with `retryAt` undefined becomes a dead letter. False when this attempt
   * was already recorded.
   */
  recordFailed(delivery: Delivery, error: string, at: number, retryAt: number | undefined): boolean {
    const status: DeliveryStatus = retryAt === undefined ? 'dead' : 'pending';
    return (
      this.sql.recordFailed.run(status, error.slice(0, ERROR_LIMIT), retryAt ?? at, retryAt === undefined ? at : null, delivery.deliveryId, delivery.round, delivery.attempts)
        .changes > 0
    );
  }

  /** Dead letters, oldest first, optionally of one webhook. */
  deadLetters(options: { webhookId?: string; limit: number }): Delivery[] {
    const rows = options.webhookId !== undefined ? this.sql.deadLettersOf.all(options.webhookId, options.limit) : this.sql.deadLetters.all(options.limit);
    return rows.map(toDelivery);
  }

  /** Counts by status, for /metrics. */
  counts(): Record<DeliveryStatus, number> {
    const counts: Record<DeliveryStatus, number> = { pending: 0, delivered: 0, dead: 0 };
    for (const row of this.sql.counts.all()) counts[row.status] = row.n;
    return counts;
  }

  /** Forgets deliveries delivered before `before` (kept a while for looking into a receiver's complaints). */
  pruneDelivered(before: number): number {
    return this.sql.pruneDelivered.run(before).changes;
  }

  get open(): boolean {
    return this.db.open;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
