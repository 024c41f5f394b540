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

/** What a set of cases adds up to, for one group: the counts and sums (the histograms apart). */
export interface Counters {
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
}

/** A summary group before its first row. */
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

/** A daily row's counts and sums, in this order wherever the projection keeps them as an array. */
export const COUNTER_COLUMNS = [
  'cases',
  'refunded',
  'compensated',
  'auto_approved',
  'deadline_decided',
  'express_refunds',
  'express_disputed',
  'rating_sum',
  'rating_count',
  'nps_count',
  'promoters',
  'detractors',
] as const satisfies ReadonlyArray<keyof CaseFactsDailyRow>;

/**
 * One case's share of each rollup row it counts in: worked out once per
 * case, then added to its row under every dimension. Counters in
 * COUNTER_COLUMNS order; a duration's bucket index, −1 for none.
 */
export interface Contribution {
  counters: number[];
  firstResponse: number;
  resolution: number;
}

export function contributionOf(facts: ContributingFacts): Contribution {
  const rated = facts.rating !== null;
  const nps = facts.nps === null ? null : Number(facts.nps);
  const counters = [
    1,
    Number(facts.refunded),
    Number(facts.compensated),
    Number(facts.auto_approved),
    Number(facts.deadline_decided),
    Number(facts.express_refund),
    Number(facts.express_disputed),
    rated ? Number(facts.rating) : 0,
    rated ? 1 : 0,
    nps === null ? 0 : 1,
    nps !== null && nps >= 9 ? 1 : 0,
    nps !== null && nps <= 6 ? 1 : 0,
  ];
  const index = (seconds: number | null) => (seconds === null ? -1 : bucketIndex(durationBucket(Number(seconds))));
  return { counters, firstResponse: index(facts.first_response_seconds), resolution: index(facts.resolution_seconds) };
}

/**
 * A rollup row as a batch changes it: first the batch's changes (cases
 * added and taken away), then, if the row is stored, the stored row added
 * in; what is left is the row to write.
 */
export class RollupTotals {
  readonly counters: number[] = COUNTER_COLUMNS.map(() => 0);
  readonly firstResponse: Histogram = new Map();
  readonly resolution: Histogram = new Map();

  get cases(): number {
    return this.counters[0];
  }

  /** Adds (sign 1) or takes away (sign −1) one case's contribution. */
  add(share: Contribution, sign: 1 | -1): void {
    const { counters } = this;
    for (let i = 0; i < counters.length; i += 1) counters[i] += sign * share.counters[i];
    if (share.firstResponse >= 0) count(this.firstResponse, share.firstResponse, sign);
    if (share.resolution >= 0) count(this.resolution, share.resolution, sign);
  }

  /** Adds a stored row. */
  addRow(row: CaseFactsDailyRow): void {
    for (let i = 0; i < COUNTER_COLUMNS.length; i += 1) this.counters[i] += Number(row[COUNTER_COLUMNS[i]]);
    addDecoded(this.firstResponse, row.first_response);
    addDecoded(this.resolution, row.resolution);
  }

  /** Whether it changes nothing: every count, sum and bucket at zero. */
  isEmpty(): boolean {
    return this.counters.every((n) => n === 0) && this.firstResponse.size === 0 && this.resolution.size === 0;
  }

  toRow(dimension: AnalyticsGroup, day: string, key: string): CaseFactsDailyRow {
    const row = { dimension, day, key, first_response: encodeHistogram(this.firstResponse), resolution: encodeHistogram(this.resolution) } as CaseFactsDailyRow;
    for (let i = 0; i < COUNTER_COLUMNS.length; i += 1) row[COUNTER_COLUMNS[i]] = this.counters[i];
    return row;
  }
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
 * The histogram as stored: for each bucket in bucket order (an index is the
 * bucket's place among all buckets: bucketIndex), its index's step from the
 * previous bucket's (less one; the first from −1) and its count, each a
 * variable-length number in text: five bits per character, least
 * significant first, the sixth bit set on every character but a number's
 * last, the six bits written as the character '0' + bits (all printable
 * ASCII). No empty bucket. So equal histograms are equal text whatever the
 * order the cases came in; a bucket takes two characters or so (the summary
 * reads rows as fast as they are small, and text faster than blobs); and
 * reading one back is a walk over its characters, nothing parsed.
 */
export function encodeHistogram(histogram: Histogram): string {
  const buckets = [...histogram.keys()].sort((a, b) => a - b);
  let text = '';
  let previous = -1;
  for (const bucket of buckets) {
    text += digits(bucket - previous - 1) + digits(histogram.get(bucket)!);
    previous = bucket;
  }
  return text;
}

const DIGIT_ZERO = 48;
const MORE = 32;
/** Between histograms listed in one text (','; the encoding's characters run from '0' to 'o'). */
export const HISTOGRAM_SEPARATOR = 44;

function digits(value: number): string {
  let rest = value;
  let text = '';
  while (rest >= MORE) {
    text += String.fromCharCode(DIGIT_ZERO + MORE + (rest % MORE));
    rest = Math.floor(rest / MORE);
  }
  return text + String.fromCharCode(DIGIT_ZERO + rest);
}

/** Calls `each` with every (bucket index, count) of a stored histogram. */
function readPairs(text: string, each: (bucket: number, n: number) => void): void {
  let at = 0;
  let bucket = -1;
  while (at < text.length) {
    let step = 0;
    let scale = 1;
    let digit: number;
    do {
      digit = text.charCodeAt(at++) - DIGIT_ZERO;
      step += (digit % MORE) * scale;
      scale *= MORE;
    } while (digit >= MORE);
    let n = 0;
    scale = 1;
    do {
      digit = text.charCodeAt(at++) - DIGIT_ZERO;
      n += (digit % MORE) * scale;
      scale *= MORE;
    } while (digit >= MORE);
    bucket += step + 1;
    each(bucket, n);
  }
}

/** Adds a stored histogram (encodeHistogram's text) into `histogram`. */
export function addDecoded(histogram: Histogram, text: string): void {
  readPairs(text, (bucket, n) => count(histogram, bucket, n));
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
 * One group's durations as the summary gathers them: the stored histograms
 * of its rollup rows, as their text, and the bucket indices of the cases it
 * read alone. Nothing is decoded until its percentiles are asked for; then
 * everything goes into one dense array per process (a count per bucket
 * index), shared by every group and every summary, and is cleared from it
 * before the call returns. A dense array per group made a 91-group summary
 * allocate 2.5 MB of array buffers outside the heap; their release waited
 * for full collections, which is where its tail latency came from.
 */
export class DurationHistogram {
  private readonly encoded: string[] = [];
  private readonly indices: number[] = [];

  /** Adds a stored histogram (encodeHistogram's text), or several, each followed by HISTOGRAM_SEPARATOR but the last. */
  addEncoded(text: string): void {
    if (text.length > 0) this.encoded.push(text);
  }

  /** Counts one duration (seconds). */
  addDuration(seconds: number): void {
    this.indices.push(bucketIndex(durationBucket(seconds)));
  }

  /**
   * Nearest-rank percentiles (for each p, the smallest value with at least
   * p % of the values at or below it) as the histogram can tell them: the
   * upper bound of the bucket that value fell in. Null for an empty histogram.
   */
  percentiles(ps: readonly number[]): Array<number | null> {
    const counts = SCRATCH;
    let total = 0;
    let lowest = DENSE_BUCKETS;
    let highest = -1;
    // Each stored histogram's buckets come in ascending order: its first is its lowest, its last its highest.
    for (const text of this.encoded) {
      let at = 0;
      let bucket = -1;
      let first = -1;
      while (at < text.length) {
        if (text.charCodeAt(at) === HISTOGRAM_SEPARATOR) {
          // The next histogram of a list.
          if (first >= 0 && first < lowest) lowest = first;
          if (bucket > highest) highest = bucket;
          bucket = -1;
          first = -1;
          at += 1;
          continue;
        }
        let digit = text.charCodeAt(at++) - DIGIT_ZERO;
        let step = digit & (MORE - 1);
        for (let scale = MORE; digit >= MORE; scale *= MORE) {
          digit = text.charCodeAt(at++) - DIGIT_ZERO;
          step += (digit & (MORE - 1)) * scale;
        }
        digit = text.charCodeAt(at++) - DIGIT_ZERO;
        let n = digit & (MORE - 1);
        for (let scale = MORE; digit >= MORE; scale *= MORE) {
          digit = text.charCodeAt(at++) - DIGIT_ZERO;
          n += (digit & (MORE - 1)) * scale;
        }
        bucket += step + 1;
        if (first < 0) first = bucket;
        counts[bucket] += n;
        total += n;
      }
      if (first >= 0 && first < lowest) lowest = first;
      if (bucket > highest) highest = bucket;
    }
    for (const bucket of this.indices) {
      counts[bucket] += 1;
      total += 1;
      if (bucket < lowest) lowest = bucket;
      if (bucket > highest) highest = bucket;
    }
    const answers = ps.map(() => null as number | null);
    if (total > 0) {
      // One pass over the touched buckets answers every p (ranks ascending with p).
      const ranks = ps.map((p) => Math.max(1, Math.floor((p * total + 99) / 100)));
      let seen = 0;
      for (let i = lowest; i <= highest; i += 1) {
        seen += counts[i];
        for (let k = 0; k < ranks.length; k += 1) {
          if (answers[k] === null && seen >= ranks[k]) answers[k] = bucketUpperBound(bucketOfIndex(i));
        }
        if (answers[answers.length - 1] !== null) break;
      }
      counts.fill(0, lowest, highest + 1);
    }
    return answers;
  }
}

/**
 * The dense counts DurationHistogram.percentiles works in: filled and
 * cleared again within one synchronous call, so one array serves all.
 */
const SCRATCH = new Float64Array(DENSE_BUCKETS);
