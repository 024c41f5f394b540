import { sql } from 'kysely';
import {
  COUNTER_COLUMNS,
  DurationHistogram,
  emptyCounters,
  GROUP_COLUMN,
  HISTOGRAM_SEPARATOR,
  type AnalyticsGroup,
  type Counters,
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

/** Between the histograms of one key's rollup rows, as the database lists them. */
const SEPARATOR = String.fromCharCode(HISTOGRAM_SEPARATOR);

/** One group's counts and sums, and its two duration histograms. */
interface Group {
  counters: Counters;
  firstResponse: DurationHistogram;
  resolution: DurationHistogram;
}

/**
 * `GET /v1/analytics/summary` from the `case_analytics` read model: the
 * cases requested in [from, to), grouped by one of API.md's keys. The whole
 * UTC days of the range come from the daily rollup (one row per day and
 * key: counts, sums, duration histograms), the partial days at either end
 * from the cases themselves (their counters added up, their durations put
 * into the same buckets); so a summary reads a row per day and key plus at
 * most two days of cases, whatever the range.
 *
 * Percentiles are nearest rank over histogram buckets (exact below 128 s,
 * then less than 1/64 of the value wide): each is the upper bound of the
 * bucket the exact value falls in, never below it and less than 1.6 % above.
 */
export class AnalyticsQuery {
  constructor(private readonly store: ReadStore) {}

  async summary(range: { from: string; to: string }, groupBy: AnalyticsGroup): Promise<AnalyticsSummary> {
    const groups = new Map<string, Group>();
    const group = (key: string | null): Group => {
      const name = key ?? '';
      let found = groups.get(name);
      if (!found) groups.set(name, (found = { counters: emptyCounters(), firstResponse: new DurationHistogram(), resolution: new DurationHistogram() }));
      return found;
    };
    const from = Date.parse(range.from);
    const to = Date.parse(range.to);
    // Whole days: [firstDay, endDay) at midnights inside the range.
    const firstDay = Math.ceil(from / DAY_MS) * DAY_MS;
    const endDay = Math.floor(to / DAY_MS) * DAY_MS;
    const partial: Array<[string, string]> = [];
    if (firstDay < endDay) {
      await this.addDays(groupBy, dayOf(firstDay), dayOf(endDay), group);
      if (from < firstDay) partial.push([range.from, new Date(firstDay).toISOString()]);
      if (endDay < to) partial.push([new Date(endDay).toISOString(), range.to]);
    } else if (from < to) {
      partial.push([range.from, range.to]);
    }
    for (const [start, end] of partial) await this.addCases(groupBy, start, end, group);
    const items = [...groups]
      .filter(([, g]) => g.counters.cases > 0)
      .map(([key, g]) => summarise(groupBy === 'agent' && key === '' ? NO_AGENT : key, g))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { from: range.from, to: range.to, groupBy, items };
  }

  /**
   * The rollup rows of the whole days [firstDay, endDay), in one pass: the
   * database adds up each key's counters and lists its rows' histograms in
   * one text, decoded when the percentiles are asked for. (A row object per
   * rollup row, or a second pass for the histograms, cost more than the sums.)
   */
  private async addDays(groupBy: AnalyticsGroup, firstDay: string, endDay: string, group: (key: string | null) => Group): Promise<void> {
    const totals = await sql<CaseTotals & { first_responses: string | null; resolutions: string | null }>`
      select key, sum(cases) as cases, sum(refunded) as refunded, sum(compensated) as compensated,
        sum(auto_approved) as auto_approved, sum(deadline_decided) as deadline_decided,
        sum(express_refunds) as express_refunds, sum(express_disputed) as express_disputed,
        sum(rating_sum) as rating_sum, sum(rating_count) as rating_count, sum(nps_count) as nps_count,
        sum(promoters) as promoters, sum(detractors) as detractors,
        string_agg(first_response, ${SEPARATOR}) as first_responses, string_agg(resolution, ${SEPARATOR}) as resolutions
      from rm_case_facts_daily
      where dimension = ${groupBy} and day >= ${firstDay} and day < ${endDay}
      group by key`.execute(this.store.db);
    for (const row of totals.rows) {
      const g = group(row.key);
      addCounters(g.counters, row);
      if (row.first_responses) g.firstResponse.addEncoded(row.first_responses);
      if (row.resolutions) g.resolution.addEncoded(row.resolutions);
    }
  }

  /**
   * The cases requested in [start, end) (less than a day), added to their
   * groups in one pass over them: the database adds up each group's
   * counters and lists its durations as text (two passes, or a row object
   * per case, cost about twice as much: the cases' rows are wide).
   */
  private async addCases(groupBy: AnalyticsGroup, start: string, end: string, group: (key: string | null) => Group): Promise<void> {
    const key = sql.ref(GROUP_COLUMN[groupBy]);
    const totals = await sql<CaseTotals & { first_responses: string | null; resolutions: string | null }>`
      select ${key} as key, count(*) as cases, sum(refunded) as refunded, sum(compensated) as compensated,
        sum(auto_approved) as auto_approved, sum(deadline_decided) as deadline_decided,
        sum(express_refund) as express_refunds, sum(express_disputed) as express_disputed,
        sum(rating) as rating_sum, count(rating) as rating_count, count(nps) as nps_count,
        sum(case when nps >= 9 then 1 else 0 end) as promoters, sum(case when nps <= 6 then 1 else 0 end) as detractors,
        string_agg(cast(first_response_seconds as text), ',') as first_responses, string_agg(cast(resolution_seconds as text), ',') as resolutions
      from rm_case_facts
      where requested_at >= ${start} and requested_at < ${end}
      group by ${key}`.execute(this.store.db);
    for (const row of totals.rows) {
      const g = group(row.key);
      addCounters(g.counters, row);
      addDurations(g.firstResponse, row.first_responses);
      addDurations(g.resolution, row.resolutions);
    }
  }
}


/** A rollup row's counters, or a range of cases' as the database added them up, added to a group's. */
type CaseTotals = { key: string | null } & { [column in (typeof COUNTER_COLUMNS)[number]]: number | string | null };

/** Durations listed as text by the database (`string_agg`: null for none), counted into a histogram. */
function addDurations(histogram: DurationHistogram, list: string | null): void {
  if (!list) return;
  for (const seconds of list.split(',')) histogram.addDuration(Number(seconds));
}

/** (A sum over no rows is null.) */
function addCounters(c: Counters, row: Pick<CaseTotals, (typeof COUNTER_COLUMNS)[number]>): void {
  c.cases += Number(row.cases);
  c.refunded += Number(row.refunded ?? 0);
  c.compensated += Number(row.compensated ?? 0);
  c.autoApproved += Number(row.auto_approved ?? 0);
  c.deadlineDecided += Number(row.deadline_decided ?? 0);
  c.expressRefunds += Number(row.express_refunds ?? 0);
  c.expressDisputed += Number(row.express_disputed ?? 0);
  c.ratingSum += Number(row.rating_sum ?? 0);
  c.ratingCount += Number(row.rating_count ?? 0);
  c.npsCount += Number(row.nps_count ?? 0);
  c.promoters += Number(row.promoters ?? 0);
  c.detractors += Number(row.detractors ?? 0);
}

/** `YYYY-MM-DD` of a UTC midnight. */
const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

function summarise(key: string, { counters: totals, firstResponse, resolution }: Group): AnalyticsSummaryItem {
  const { cases, npsCount } = totals;
  const [firstResponseP50, firstResponseP90] = firstResponse.percentiles(PERCENTILES);
  const [resolutionP50, resolutionP90] = resolution.percentiles(PERCENTILES);
  return {
    key,
    cases,
    refunded: totals.refunded,
    compensated: totals.compensated,
    autoApprovedRate: rate(totals.autoApproved, cases),
    deadlineDecidedRate: rate(totals.deadlineDecided, cases),
    expressRefunds: totals.expressRefunds,
    expressDisputed: totals.expressDisputed,
    firstResponseP50,
    firstResponseP90,
    resolutionP50,
    resolutionP90,
    ...(totals.ratingCount > 0 ? { ratingAvg: round(totals.ratingSum / totals.ratingCount) } : {}),
    ...(npsCount > 0 ? { nps: Math.round(((totals.promoters - totals.detractors) / npsCount) * 100) } : {}),
  };
}

/** The percentiles the summary reports of each duration. */
const PERCENTILES = [50, 90] as const;

/** A share from 0 to 1, to four decimals. */
function rate(count: number, of: number): number {
  return of === 0 ? 0 : round(count / of);
}

const round = (value: number): number => Math.round(value * 10_000) / 10_000;
