import {
  addCase,
  addTotals,
  CONTRIBUTING_COLUMNS,
  emptyTotals,
  groupKey,
  percentile,
  totalsOfRow,
  type AnalyticsGroup,
  type Totals,
} from '../projections/case-analytics-rollup';
import type { ReadStore } from '../store/read-store';

export { ANALYTICS_GROUPS, type AnalyticsGroup } from '../projections/case-analytics-rollup';

/** The key of cases no agent acted on, under `groupBy=agent`. */
export const NO_AGENT = 'none';

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

const DAY_MS = 86_400_000;

/**
 * `GET /v1/analytics/summary` from the `case_analytics` read model: the
 * cases requested in [from, to), grouped by one of API.md's keys. The whole
 * UTC days of the range come from the daily rollup (one row per day and
 * key: counts, sums, duration histograms), the partial days at either end
 * from the cases themselves, bucketed the same way; so a summary reads a
 * row per day and key plus at most two days of cases, whatever the range.
 *
 * Percentiles are nearest rank over histogram buckets (exact below 128 s,
 * then less than 1/64 of the value wide): each is the upper bound of the
 * bucket the exact value falls in, never below it and less than 1.6 % above.
 */
export class AnalyticsQuery {
  constructor(private readonly store: ReadStore) {}

  async summary(range: { from: string; to: string }, groupBy: AnalyticsGroup): Promise<AnalyticsSummary> {
    const groups = new Map<string, Totals>();
    const add = (key: string): Totals => {
      let totals = groups.get(key);
      if (!totals) groups.set(key, (totals = emptyTotals()));
      return totals;
    };
    const from = Date.parse(range.from);
    const to = Date.parse(range.to);
    // Whole days: [firstDay, endDay) at midnights inside the range.
    const firstDay = Math.ceil(from / DAY_MS) * DAY_MS;
    const endDay = Math.floor(to / DAY_MS) * DAY_MS;
    const partial: Array<[string, string]> = [];
    if (firstDay < endDay) {
      const rows = await this.store.db
        .selectFrom('rm_case_facts_daily')
        .selectAll()
        .where('dimension', '=', groupBy)
        .where('day', '>=', dayOf(firstDay))
        .where('day', '<', dayOf(endDay))
        .execute();
      for (const row of rows) addTotals(add(row.key), totalsOfRow(row));
      if (from < firstDay) partial.push([range.from, new Date(firstDay).toISOString()]);
      if (endDay < to) partial.push([new Date(endDay).toISOString(), range.to]);
    } else if (from < to) {
      partial.push([range.from, range.to]);
    }
    for (const [start, end] of partial) {
      const rows = await this.store.db
        .selectFrom('rm_case_facts')
        .select(CONTRIBUTING_COLUMNS)
        .where('requested_at', '>=', start)
        .where('requested_at', '<', end)
        .execute();
      for (const row of rows) addCase(add(groupKey(row, groupBy)), row, 1);
    }
    const items = [...groups]
      .filter(([, totals]) => totals.cases > 0)
      .map(([key, totals]) => summarise(groupBy === 'agent' && key === '' ? NO_AGENT : key, totals))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { from: range.from, to: range.to, groupBy, items };
  }
}

/** `YYYY-MM-DD` of a UTC midnight. */
const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

function summarise(key: string, totals: Totals): AnalyticsSummaryItem {
  const { cases, npsCount } = totals;
  return {
    key,
    cases,
    refunded: totals.refunded,
    compensated: totals.compensated,
    autoApprovedRate: rate(totals.autoApproved, cases),
    deadlineDecidedRate: rate(totals.deadlineDecided, cases),
    expressRefunds: totals.expressRefunds,
    expressDisputed: totals.expressDisputed,
    firstResponseP50: percentile(totals.firstResponse, 50),
    firstResponseP90: percentile(totals.firstResponse, 90),
    resolutionP50: percentile(totals.resolution, 50),
    resolutionP90: percentile(totals.resolution, 90),
    ...(totals.ratingCount > 0 ? { ratingAvg: round(totals.ratingSum / totals.ratingCount) } : {}),
    ...(npsCount > 0 ? { nps: Math.round(((totals.promoters - totals.detractors) / npsCount) * 100) } : {}),
  };
}

/** A share from 0 to 1, to four decimals. */
function rate(count: number, of: number): number {
  return of === 0 ? 0 : round(count / of);
}

const round = (value: number): number => Math.round(value * 10_000) / 10_000;
