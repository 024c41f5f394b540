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

const FACT_COLUMNS = [
  'refunded',
  'compensated',
  'auto_approved',
  'deadline_decided',
  'express_refund',
  'express_disputed',
  'first_response_seconds',
  'resolution_seconds',
  'rating',
  'nps',
] as const;

type FactRow = Pick<CaseFactsRow, (typeof FACT_COLUMNS)[number]> & { key: string | null };

/**
 * `GET /v1/analytics/summary` from the `case_analytics` read model: the
 * cases requested in [from, to), grouped by one of API.md's keys. The rows
 * are read once and aggregated here, percentiles (nearest rank) included,
 * so both dialects give the same numbers; SQL aggregation is the step to
 * take if ranges of hundreds of thousands of cases must answer faster.
 */
export class AnalyticsQuery {
  constructor(private readonly store: ReadStore) {}

  async summary(range: { from: string; to: string }, groupBy: AnalyticsGroup): Promise<AnalyticsSummary> {
    const rows: FactRow[] = await this.store.db
      .selectFrom('rm_case_facts')
      .select([`${GROUP_COLUMN[groupBy]} as key`, ...FACT_COLUMNS])
      .where('requested_at', '>=', range.from)
      .where('requested_at', '<', range.to)
      .execute();
    const groups = new Map<string, FactRow[]>();
    for (const row of rows) {
      const key = row.key ?? NO_AGENT;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = []));
      group.push(row);
    }
    const items = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, group]) => summarise(key, group));
    return { from: range.from, to: range.to, groupBy, items };
  }
}

function summarise(key: string, rows: readonly FactRow[]): AnalyticsSummaryItem {
  const cases = rows.length;
  const sum = (pick: (row: FactRow) => number) => rows.reduce((total, row) => total + pick(row), 0);
  const present = (pick: (row: FactRow) => number | null) => rows.map(pick).filter((v): v is number => v !== null && v !== undefined).map(Number);
  const firstResponses = present((r) => r.first_response_seconds).sort((a, b) => a - b);
  const resolutions = present((r) => r.resolution_seconds).sort((a, b) => a - b);
  const ratings = present((r) => r.rating);
  const npsScores = present((r) => r.nps);
  return {
    key,
    cases,
    refunded: sum((r) => Number(r.refunded)),
    compensated: sum((r) => Number(r.compensated)),
    autoApprovedRate: rate(sum((r) => Number(r.auto_approved)), cases),
    deadlineDecidedRate: rate(sum((r) => Number(r.deadline_decided)), cases),
    expressRefunds: sum((r) => Number(r.express_refund)),
    expressDisputed: sum((r) => Number(r.express_disputed)),
    firstResponseP50: percentile(firstResponses, 50),
    firstResponseP90: percentile(firstResponses, 90),
    resolutionP50: percentile(resolutions, 50),
    resolutionP90: percentile(resolutions, 90),
    ...(ratings.length > 0 ? { ratingAvg: round(ratings.reduce((a, b) => a + b, 0) / ratings.length) } : {}),
    ...(npsScores.length > 0 ? { nps: netPromoterScore(npsScores) } : {}),
  };
}

/** A share from 0 to 1, to four decimals. */
function rate(count: number, of: number): number {
  return of === 0 ? 0 : round(count / of);
}

const round = (value: number): number => Math.round(value * 10_000) / 10_000;

/** Nearest-rank percentile of ascending values: the smallest value with at least p% of them at or below it. */
export function percentile(ascending: readonly number[], p: number): number | null {
  if (ascending.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * ascending.length));
  return ascending[rank - 1];
}

/** Promoters (9–10) less detractors (0–6), as a percentage of the scores, rounded. */
export function netPromoterScore(scores: readonly number[]): number {
  const promoters = scores.filter((s) => s >= 9).length;
  const detractors = scores.filter((s) => s <= 6).length;
  return Math.round(((promoters - detractors) / scores.length) * 100);
}
