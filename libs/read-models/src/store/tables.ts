/**
 * Every read-model table, as Kysely sees it. Times are ISO-8601 strings in
 * UTC (`toISOString()`), which sort as text the same on both dialects;
 * amounts and positions are integers (PostgreSQL `bigint`, read back as
 * numbers: see read-store.ts).
 */
export interface ReadModelTables {
  rm_schema: SchemaRow;
  rm_checkpoints: CheckpointRow;
  rm_leases: LeaseRow;
  rm_case_list: CaseListRow;
  rm_case_timeline: CaseTimelineRow;
}

/** The store's own migrations applied so far. */
export interface SchemaRow {
  version: number;
  applied_at: string;
}

/** One row per projection: the global position its tables reflect, and the version of its table shapes. */
export interface CheckpointRow {
  name: string;
  version: number;
  position: number;
  updated_at: string;
}

/** SQLite only: who runs a projection, until when (epoch ms). PostgreSQL uses advisory locks instead. */
export interface LeaseRow {
  name: string;
  owner: string;
  expires_at: number;
}

export interface CaseListRow {
  case_id: string;
  order_id: string;
  buyer_id: string;
  merchant_id: string;
  business_line: string;
  kind: string;
  reason: string;
  status: string;
  requested_amount: number;
  refunded: number;
  currency: string;
  priority: number;
  assignee: string | null;
  requested_at: string;
  updated_at: string;
  next_deadline_name: string | null;
  next_deadline_at: string | null;
  /** Case stream revision last applied: older or repeated events are skipped. */
  revision: number;
  /** The folded case (JSON), so the next event evolves it without reading the stream. */
  state: string;
}

export interface CaseTimelineRow {
  case_id: string;
  revision: number;
  position: number;
  at: string;
  type: string;
  actor_role: string;
  actor_id: string;
  channel: string;
  /** The event's data as JSON. */
  data: string;
}
