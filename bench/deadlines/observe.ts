/*
 * What the benchmark reads while the service runs: the MerchantAgreed events
 * appended to the event store (read from the SQLite file on a connection of
 * our own, as another process would), and the worker's durable pending table.
 */
import Database from 'better-sqlite3';
import { caseStream } from '@aftersales/domain';

const CASE_PREFIX = caseStream('');

export interface Agreement {
  caseId: string;
  auto: boolean;
  trigger?: string;
  occurredAt: number;
  actorRole?: string;
}

/** Follows the log for MerchantAgreed from where it last looked; a fresh instance starts at the beginning. */
export class AgreementWatch {
  private readonly db: Database.Database;
  private readonly after: Database.Statement<[number], { position: number; stream: string; data: string; metadata: string }>;
  private position = 0;
  readonly all: Agreement[] = [];
  readonly byCase = new Map<string, number>();

  constructor(path: string) {
    this.db = new Database(path, { readonly: true, fileMustExist: true, timeout: 5000 });
    this.after = this.db.prepare(
      "SELECT global_position AS position, stream_name AS stream, data, metadata FROM es_events WHERE global_position > ? AND type = 'MerchantAgreed' ORDER BY global_position",
    );
  }

  /** Reads what was appended since the last call; returns how many agreements there are now. */
  poll(): number {
    for (const row of this.after.iterate(this.position)) {
      this.position = row.position;
      const data = JSON.parse(row.data) as { auto: boolean; trigger?: string };
      const metadata = JSON.parse(row.metadata) as { occurredAt: string; actor?: { role?: string } };
      const caseId = row.stream.slice(CASE_PREFIX.length);
      this.all.push({ caseId, auto: data.auto, trigger: data.trigger, occurredAt: Date.parse(metadata.occurredAt), actorRole: metadata.actor?.role });
      this.byCase.set(caseId, (this.byCase.get(caseId) ?? 0) + 1);
    }
    return this.all.length;
  }

  /** Cases agreed more than once (must be none). */
  duplicates(): string[] {
    return [...this.byCase].filter(([, n]) => n > 1).map(([caseId]) => caseId);
  }

  /** Rows in the worker's durable pending table (0 until the worker created it). */
  pendingDeadlines(): number {
    try {
      return this.db.prepare("SELECT count(*) FROM wk_pending WHERE queue = 'deadlines'").pluck().get() as number;
    } catch {
      return 0;
    }
  }

  /** Rows in the pending table for one deadline name (e.g. the buyerShipBack each approval starts). */
  pendingDeadlinesNamed(name: string): number {
    try {
      return this.db.prepare("SELECT count(*) FROM wk_pending WHERE queue = 'deadlines' AND key LIKE ?").pluck().get(`deadline-%-${name}-%`) as number;
    } catch {
      return 0;
    }
  }

  close(): void {
    this.db.close();
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}
