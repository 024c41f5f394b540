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
  rm_agent_queue: AgentQueueRow;
  rm_agent_queue_buyers: AgentQueueBuyerRow;
  rm_case_facts: CaseFactsRow;
  rm_case_facts_orders: CaseFactsOrderRow;
  rm_case_facts_daily: CaseFactsDailyRow;
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

/** One row per case (ended ones too, so a late event still folds): what the agent queues sort and filter on. */
export interface AgentQueueRow {
  case_id: string;
  order_id: string;
  buyer_id: string;
  business_line: string;
  kind: string;
  reason: string;
  status: string;
  priority: number;
  assignee: string | null;
  /** 1 while the case is in its holder's queue: open (not completed or closed), or ended with a refund given up (`inHolderQueue`). */
  open: number;
  /** 1 while the domain's `inAgentPool` holds for the case and its buyer's flag. */
  in_pool: number;
  requested_at: string;
  /** When the current status began. */
  waiting_since: string;
  next_deadline_name: string | null;
  next_deadline_at: string | null;
  revision: number;
  /** The folded case (JSON). */
  state: string;
}

/** The buyer flag as the agent queues read it (buyer streams). */
export interface AgentQueueBuyerRow {
  buyer_id: string;
  flagged: number;
}

/** One row per case: the facts analysts aggregate (DOMAIN.md, "What analysts need"). */
export interface CaseFactsRow {
  case_id: string;
  order_id: string;
  buyer_id: string;
  /** From the order's snapshot (OrderRegistered); null if the order was never seen. */
  payment_account: string | null;
  merchant_id: string;
  kind: string;
  reason: string;
  department: string;
  /** Product, category and supplier of the case's first line. */
  product_id: string;
  category: string;
  supplier_id: string;
  requested_at: string;
  /** `YYYY-MM-DD` (UTC) of requested_at. */
  day: string;
  /** The agent who acted: the compensating agent, else the last agent who held the case. */
  agent_id: string | null;
  /** The agent who granted compensation, if one did. */
  compensated_by: string | null;
  refunded: number;
  compensated: number;
  auto_approved: number;
  deadline_decided: number;
  express_refund: number;
  express_disputed: number;
  /** 1 once a return parcel was shipped, collected or delivered. */
  returned: number;
  first_response_seconds: number | null;
  resolution_seconds: number | null;
  rating: number | null;
  nps: number | null;
  revision: number;
  /** The folded case (JSON). */
  state: string;
}

/** Orders as the case facts need them: whose, paid from which account, how much. */
export interface CaseFactsOrderRow {
  order_id: string;
  buyer_id: string;
  payment_account: string;
  paid_amount: number;
}

/**
 * The summary's rollup: the cases requested on `day` whose key under
 * `dimension` (a `groupBy`) is `key` (no agent: ''), added up. Durations are
 * histograms, JSON `[[bucket lower bound, count], ...]` in bucket order.
 */
export interface CaseFactsDailyRow {
  dimension: string;
  day: string;
  key: string;
  cases: number;
  refunded: number;
  compensated: number;
  auto_approved: number;
  deadline_decided: number;
  express_refunds: number;
  express_disputed: number;
  rating_sum: number;
  rating_count: number;
  nps_count: number;
  promoters: number;
  detractors: number;
  first_response: string;
  resolution: string;
}
