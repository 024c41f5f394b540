import type { CaseFactsDailyRow, CaseFactsRow } from '../store/tables';

/**
 * The summary's rollup: per day (of `requested_at`), per `groupBy`
 * dimension and key, the counts and sums of the cases requested that day,
 * and a histogram of each duration. The summary adds up the rows of the
 * whole days it covers instead of reading every case; the case_analytics
 * projection keeps the rows in the same transaction as the facts.
 */

/** API.md's `groupBy` of `GET /v1/analytics/summary`. */
export const ANALYTICS_GROUPS = ['day', 'merchant', 'reason', 'department', 'product', 'category', 'supplier', 'agent'] as const;
export type AnalyticsGroup = (typeof ANALYTICS_GROUPS)[number];

/** The facts column each dimension groups by. */
export const GROUP_COLUMN = {
  day: 'day',
  merchant: 'merchant_id',
  reason: 'reason',
  department: 'department',
  product: 'product_id',
  category: 'category',
  supplier: 'supplier_id',
  agent: 'agent_id',
} as const satisfies Record<AnalyticsGroup, keyof CaseFactsRow>;

/** The columns of a facts row the rollup reads. */
export const CONTRIBUTING_COLUMNS = [
  'day',
  'merchant_id',
  'reason',
  'department',
  'product_id',
  'category',
  'supplier_id',
  'agent_id',
  'refunded',
  'compensated',
  'auto_approved',
  'deadline_decided',
  'express_refund',
  'express_disputed',
  'rating',
  'nps',
  'first_response_seconds',
  'resolution_seconds',
] as const satisfies ReadonlyArray<keyof CaseFactsRow>;

export type ContributingFacts = Pick<CaseFactsRow, (typeof CONTRIBUTING_COLUMNS)[number]>;

/** Histogram buckets: a bucket's index (bucketIndex) → how many durations fell in it. */
export type Histogram = Map<number, number>;

/** What a set of cases adds up to, for one group. */
export interface Totals {
  cases: number;
  refunded: number;
  compensated: number;
  autoApproved: number;
  deadlineDecided: number;
  expressRefunds: number;
  expressDisputed: number;
  ratingSum: number;
  ratingCount: number;
  npsCount: number;
  promoters: number;
  detractors: number;
  firstResponse: Histogram;
  resolution: Histogram;
}

/** Every count and sum at zero: a day's rollup row before its first case, or a summary group before its first row. */
export const emptyCounters = (): Counters => ({
  cases: 0,
  refunded: 0,
  compensated: 0,
  autoApproved: 0,
  deadlineDecided: 0,
  expressRefunds: 0,
  expressDisputed: 0,
  ratingSum: 0,
  ratingCount: 0,
  npsCount: 0,
  promoters: 0,
  detractors: 0,
});

export const emptyTotals = (): Totals => ({ ...emptyCounters(), firstResponse: new Map(), resolution: new Map() });

/**
 * Durations below 128 s are a bucket each; from there each power of two is
 * cut into 64 buckets of equal width, so a bucket is less than 1/64 of its
 * lower bound wide. Returns the bucket's lower bound.
 */
export function durationBucket(seconds: number): number {
  const s = Math.max(0, Math.floor(seconds));
  if (s < EXACT_BELOW) return s;
  const width = bucketWidth(s);
  return Math.floor(s / width) * width;
}

/** The largest whole second a bucket holds: what a percentile falling in it reports. */
export function bucketUpperBound(lower: number): number {
  return lower < EXACT_BELOW ? lower : lower + bucketWidth(lower) - 1;
}

const SUB_BUCKET_BITS = 6;
const EXACT_BELOW = 2 ** (SUB_BUCKET_BITS + 1);

function bucketWidth(s: number): number {
  const exponent = s < 2 ** 31 ? 31 - Math.clz32(s) : Math.floor(Math.log2(s));
  return 2 ** (exponent - SUB_BUCKET_BITS);
}

/** Adds (sign 1) or takes away (sign −1) one case's facts. */
export function addCase(totals: Totals, facts: ContributingFacts, sign: 1 | -1): void {
  totals.cases += sign;
  totals.refunded += sign * Number(facts.refunded);
  totals.compensated += sign * Number(facts.compensated);
  totals.autoApproved += sign * Number(facts.auto_approved);
  totals.deadlineDecided += sign * Number(facts.deadline_decided);
  totals.expressRefunds += sign * Number(facts.express_refund);
  totals.expressDisputed += sign * Number(facts.express_disputed);
  if (facts.rating !== null) {
    totals.ratingSum += sign * Number(facts.rating);
    totals.ratingCount += sign;
  }
  if (facts.nps !== null) {
    const nps = Number(facts.nps);
    totals.npsCount += sign;
    if (nps >= 9) totals.promoters += sign;
    if (nps <= 6) totals.detractors += sign;
  }
  if (facts.first_response_seconds !== null) count(totals.firstResponse, bucketIndex(durationBucket(Number(facts.first_response_seconds))), sign);
  if (facts.resolution_seconds !== null) count(totals.resolution, bucketIndex(durationBucket(Number(facts.resolution_seconds))), sign);
}

export function addTotals(into: Totals, other: Totals): void {
  into.cases += other.cases;
  into.refunded += other.refunded;
  into.compensated += other.compensated;
  into.autoApproved += other.autoApproved;
  into.deadlineDecided += other.deadlineDecided;
  into.expressRefunds += other.expressRefunds;
  into.expressDisputed += other.expressDisputed;
  into.ratingSum += other.ratingSum;
  into.ratingCount += other.ratingCount;
  into.npsCount += other.npsCount;
  into.promoters += other.promoters;
  into.detractors += other.detractors;
  for (const [bucket, n] of other.firstResponse) count(into.firstResponse, bucket, n);
  for (const [bucket, n] of other.resolution) count(into.resolution, bucket, n);
}

function count(histogram: Histogram, bucket: number, by: number): void {
  const n = (histogram.get(bucket) ?? 0) + by;
  if (n === 0) histogram.delete(bucket);
  else histogram.set(bucket, n);
}

/** The key a case has under a dimension (cases no agent acted on: ''). */
export function groupKey(facts: ContributingFacts, group: AnalyticsGroup): string {
  return facts[GROUP_COLUMN[group]] ?? '';
}

/** Whether two versions of a case's facts add the same to every rollup row. */
export function sameContribution(a: ContributingFacts, b: ContributingFacts): boolean {
  for (const column of CONTRIBUTING_COLUMNS) {
    if (column === 'first_response_seconds' || column === 'resolution_seconds') {
      const x = a[column];
      const y = b[column];
      if ((x === null) !== (y === null) || (x !== null && y !== null && durationBucket(Number(x)) !== durationBucket(Number(y)))) return false;
    } else if (a[column] !== b[column] && (a[column] === null || b[column] === null || String(a[column]) !== String(b[column]))) return false;
  }
  return true;
}

/** A rollup row's identity as one string: dimension, day, key. */
export const rollupId = (dimension: string, day: string, key: string): string => `${dimension}\u0000${day}\u0000${key}`;

/**
 * The histogram as stored: `[index, count, index, count, ...]` in bucket
 * order (an index is the bucket's place among all buckets: bucketIndex), no
 * empty bucket, so equal histograms are equal text whatever the order the
 * cases came in.
 */
export function encodeHistogram(histogram: Histogram): string {
  return JSON.stringify([...histogram].sort((a, b) => a[0] - b[0]).flat());
}

export function decodeHistogram(text: string): Histogram {
  const flat = JSON.parse(text) as number[];
  const histogram: Histogram = new Map();
  for (let i = 0; i < flat.length; i += 2) histogram.set(flat[i], flat[i + 1]);
  return histogram;
}

/** Every bucket below 2^32 s has an index: the exact ones, then 64 per power of two. */
const DENSE_BUCKETS = EXACT_BELOW + (32 - SUB_BUCKET_BITS - 1) * 2 ** SUB_BUCKET_BITS;

/** The place of the bucket starting at `lower` (a durationBucket) among all buckets, in order. */
export function bucketIndex(lower: number): number {
  if (lower < EXACT_BELOW) return lower;
  if (lower >= 2 ** 32) return DENSE_BUCKETS - 1;
  const exponent = 31 - Math.clz32(lower);
  // lower >>> (exponent − 6) is the bucket's place within its power of two, 64 to 127.
  return EXACT_BELOW + (exponent - SUB_BUCKET_BITS - 1) * 2 ** SUB_BUCKET_BITS + (lower >>> (exponent - SUB_BUCKET_BITS)) - 2 ** SUB_BUCKET_BITS;
}

/** The lower bound of the bucket at `index`. */
export function bucketOfIndex(index: number): number {
  if (index < EXACT_BELOW) return index;
  const steps = index - EXACT_BELOW;
  const exponent = Math.floor(steps / 2 ** SUB_BUCKET_BITS) + SUB_BUCKET_BITS + 1;
  const sub = (steps % 2 ** SUB_BUCKET_BITS) + 2 ** SUB_BUCKET_BITS;
  return sub * 2 ** (exponent - SUB_BUCKET_BITS);
}

/**
 * A histogram the summary adds many rows into: a count per bucket index in
 * one array, so adding a stored row is a walk over its text's numbers and
 * a percentile one pass over the array.
 */
export class DenseHistogram {
  private readonly counts = new Float64Array(DENSE_BUCKETS);
  private total = 0;

  /** Adds a stored histogram (encodeHistogram's text). */
  addEncoded(text: string): void {
    if (text.length <= 2) return;
    const flat = JSON.parse(text) as number[];
    for (let i = 0; i < flat.length; i += 2) {
      this.counts[flat[i]] += flat[i + 1];
      this.total += flat[i + 1];
    }
  }

  /** Counts one duration (seconds). */
  addDuration(seconds: number): void {
    this.counts[bucketIndex(durationBucket(seconds))] += 1;
    this.total += 1;
  }

  /**
   * The nearest-rank percentile (the smallest value with at least p % of
   * the values at or below it) as the histogram can tell it: the upper bound
   * of the bucket that value fell in. Null for an empty histogram.
   */
  percentile(p: number): number | null {
    if (this.total <= 0) return null;
    const rank = Math.max(1, Math.floor((p * this.total + 99) / 100));
    let seen = 0;
    for (let i = 0; i < DENSE_BUCKETS; i += 1) {
      seen += this.counts[i];
      if (seen >= rank) return bucketUpperBound(bucketOfIndex(i));
    }
    return null;
  }
}

/** The counts and sums of a rollup row (or of a set of cases), without the histograms. */
export type Counters = Omit<Totals, 'firstResponse' | 'resolution'>;

export function addRowCounters(into: Counters, row: CaseFactsDailyRow): void {
  into.cases += Number(row.cases);
  into.refunded += Number(row.refunded);
  into.compensated += Number(row.compensated);
  into.autoApproved += Number(row.auto_approved);
  into.deadlineDecided += Number(row.deadline_decided);
  into.expressRefunds += Number(row.express_refunds);
  into.expressDisputed += Number(row.express_disputed);
  into.ratingSum += Number(row.rating_sum);
  into.ratingCount += Number(row.rating_count);
  into.npsCount += Number(row.nps_count);
  into.promoters += Number(row.promoters);
  into.detractors += Number(row.detractors);
}

export function totalsOfRow(row: CaseFactsDailyRow): Totals {
  return {
    cases: Number(row.cases),
    refunded: Number(row.refunded),
    compensated: Number(row.compensated),
    autoApproved: Number(row.auto_approved),
    deadlineDecided: Number(row.deadline_decided),
    expressRefunds: Number(row.express_refunds),
    expressDisputed: Number(row.express_disputed),
    ratingSum: Number(row.rating_sum),
    ratingCount: Number(row.rating_count),
    npsCount: Number(row.nps_count),
    promoters: Number(row.promoters),
    detractors: Number(row.detractors),
    firstResponse: decodeHistogram(row.first_response),
    resolution: decodeHistogram(row.resolution),
  };
}

export function rowOfTotals(dimension: AnalyticsGroup, day: string, key: string, totals: Totals): CaseFactsDailyRow {
  return {
    dimension,
    day,
    key,
    cases: totals.cases,
    refunded: totals.refunded,
    compensated: totals.compensated,
    auto_approved: totals.autoApproved,
    deadline_decided: totals.deadlineDecided,
    express_refunds: totals.expressRefunds,
    express_disputed: totals.expressDisputed,
    rating_sum: totals.ratingSum,
    rating_count: totals.ratingCount,
    nps_count: totals.npsCount,
    promoters: totals.promoters,
    detractors: totals.detractors,
    first_response: encodeHistogram(totals.firstResponse),
    resolution: encodeHistogram(totals.resolution),
  };
}
