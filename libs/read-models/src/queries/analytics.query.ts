import { sql } from 'kysely';
import type { ReadStore } from '../store/read-store';
import type { CaseFactsRow } from '../store/tables';

/** API.md's `groupBy` of `GET /v1/analytics/summary`. */
export const ANALYTICS_GROUPS = ['day', 'merchant', 'reason', 'department', 'product', 'category', 'supplier', 'agent'] as const;
export type AnalyticsGroup = (typeof ANALYTICS_GROUPS)[number];

/** The key of cases no agent acted on, under `groupBy=agent`. */
export const NO_AGENT = 'none';

const GROUP_COLUMN = {
  day: 'day',
  merchant: 'merchant_id',
  reason: 'reason',
  department: 'department',
  product: 'product_id',
  category: 'category',
  supplier: 'supplier_id',
  agent: 'agent_id',
} as const satisfies Record<AnalyticsGroup, keyof CaseFactsRow>;

export interface AnalyticsSummaryItem {
  key: string;
  cases: number;
  /** Minor units settled to buyers (compensation payouts included, as a case's `refunded`). */
  refunded: number;
  /** Minor units of compensation settled. */
  compensated: number;
  /** Share of cases approved without a person: auto-review, or the merchant's silence. */
  autoApprovedRate: number;
  /** Share of cases where a deadline decided at least one step. */
  deadlineDecidedRate: number;
  expressRefunds: number;
  /** Express refunds later disputed: the return failed inspection or the case was escalated. */
  expressDisputed: number;
  /** Seconds from request to the first decision by someone other than the buyer; null when none was decided. */
  firstResponseP50: number | null;
  firstResponseP90: number | null;
  /** Seconds from request to completed or closed; null when none ended. */
  resolutionP50: number | null;
  resolutionP90: number | null;
  ratingAvg?: number;
  /** Net promoter score, −100 to 100, over the cases rated with an NPS. */
  nps?: number;
}

export interface AnalyticsSummary {
  from: string;
  to: string;
  groupBy: AnalyticsGroup;
  items: AnalyticsSummaryItem[];
}

interface GroupTotals {
  key: string | null;
  cases: number | string;
  refunded: number | string;
  compensated: number | string;
  auto_approved: number | string;
  deadline_decided: number | string;
  express_refunds: number | string;
  express_disputed: number | string;
  rating_avg: number | string | null;
  nps_count: number | string;
  promoters: number | string;
  detractors: number | string;
}

interface GroupPercentiles {
  key: string | null;
  p50: number | string | null;
  p90: number | string | null;
}

/**
 * `GET /v1/analytics/summary` from the `case_analytics` read model: the
 * cases requested in [from, to), grouped by one of API.md's keys. The
 * database aggregates (one pass for counts and sums, one per duration for
 * its nearest-rank percentiles by window functions, which SQLite and
 * PostgreSQL both have), so only one row per group leaves it.
 */
export class AnalyticsQuery {
  constructor(private readonly store: ReadStore) {}

  async summary(range: { from: string; to: string }, groupBy: AnalyticsGroup): Promise<AnalyticsSummary> {
    const key = sql.ref(GROUP_COLUMN[groupBy]);
    const { db } = this.store;
    const totals = await sql<GroupTotals>`
      select ${key} as key, count(*) as cases, sum(refunded) as refunded, sum(compensated) as compensated,
        sum(auto_approved) as auto_approved, sum(deadline_decided) as deadline_decided,
        sum(express_refund) as express_refunds, sum(express_disputed) as express_disputed,
        avg(rating) as rating_avg, count(nps) as nps_count,
        sum(case when nps >= 9 then 1 else 0 end) as promoters, sum(case when nps <= 6 then 1 else 0 end) as detractors
      from rm_case_facts
      where requested_at >= ${range.from} and requested_at < ${range.to}
      group by ${key}`.execute(db);
    const [firstResponse, resolution] = await Promise.all(
      (['first_response_seconds', 'resolution_seconds'] as const).map((column) => this.percentiles(range, GROUP_COLUMN[groupBy], column)),
    );
    const items = totals.rows
      .map((row) => summarise(row, firstResponse.get(row.key ?? NO_AGENT), resolution.get(row.key ?? NO_AGENT)))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { from: range.from, to: range.to, groupBy, items };
  }

  /** P50 and P90 (nearest rank: the smallest value with at least p% of the group's values at or below it) of a duration, per group. */
  private async percentiles(range: { from: string; to: string }, groupColumn: string, column: string): Promise<Map<string, { p50: number; p90: number }>> {
    const key = sql.ref(groupColumn);
    const value = sql.ref(column);
    const result = await sql<GroupPercentiles>`
      select key, min(case when rn * 100 >= 50 * n then v end) as p50, min(case when rn * 100 >= 90 * n then v end) as p90
      from (
        select ${key} as key, ${value} as v,
          row_number() over (partition by ${key} order by ${value}) as rn,
          count(*) over (partition by ${key}) as n
        from rm_case_facts
        where requested_at >= ${range.from} and requested_at < ${range.to} and ${value} is not null
      ) ranked
      group by key`.execute(this.store.db);
    const byKey = new Map<string, { p50: number; p90: number }>();
    for (const row of result.rows) byKey.set(row.key ?? NO_AGENT, { p50: Number(row.p50), p90: Number(row.p90) });
    return byKey;
  }
}

function summarise(row: GroupTotals, firstResponse: { p50: number; p90: number } | undefined, resolution: { p50: number; p90: number } | undefined): AnalyticsSummaryItem {
  const cases = Number(row.cases);
  const npsCount = Number(row.nps_count);
  return {
    key: row.key ?? NO_AGENT,
    cases,
    refunded: Number(row.refunded),
    compensated: Number(row.compensated),
    autoApprovedRate: rate(Number(row.auto_approved), cases),
    deadlineDecidedRate: rate(Number(row.deadline_decided), cases),
    expressRefunds: Number(row.express_refunds),
    expressDisputed: Number(row.express_disputed),
    firstResponseP50: firstResponse?.p50 ?? null,
    firstResponseP90: firstResponse?.p90 ?? null,
    resolutionP50: resolution?.p50 ?? null,
    resolutionP90: resolution?.p90 ?? null,
    ...(row.rating_avg !== null ? { ratingAvg: round(Number(row.rating_avg)) } : {}),
    ...(npsCount > 0 ? { nps: Math.round(((Number(row.promoters) - Number(row.detractors)) / npsCount) * 100) } : {}),
  };
}

/** A share from 0 to 1, to four decimals. */
function rate(count: number, of: number): number {
  return of === 0 ? 0 : round(count / of);
}

const round = (value: number): number => Math.round(value * 10_000) / 10_000;
