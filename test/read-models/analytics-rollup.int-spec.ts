import type { StoredEvent } from '@aftersales/event-store';
import {
  ANALYTICS_GROUPS,
  AnalyticsQuery,
  caseAnalyticsProjection,
  NO_AGENT,
  prepareProjection,
  readCheckpoint,
  storeBatch,
  type AnalyticsGroup,
  type AnalyticsSummaryItem,
  type CaseFactsRow,
  type ReadStore,
} from '@aftersales/read-models';
import { AGENT, CaseHistory, MERCHANT, PAYMENTS } from './support/case-history';
import { DIALECTS, openTestReadStore, type TestReadStore } from './support/read-stores';

/** A seeded random source (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const DAY0 = Date.parse('2026-07-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Cases over four days whose events are interleaved in the log (every
 * case's request first, then the answers, the agents, the ends): durations
 * from seconds to days, agents that change hands (a case moves between
 * agent groups), ratings.
 */
function histories(count: number, next: () => number): StoredEvent[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const cases = Array.from({ length: count }, (_, n) => {
    const start = DAY0 + Math.floor(next() * 4 * 86_400_000);
    const history = new CaseHistory(`r${n}-${Math.floor(next() * 1e9)}`).requested(iso(start), {
      merchantId: pick(['m1', 'm2', 'm3']),
      reason: pick(['not_received', 'quality_defect']),
      lines: [{ lineId: 'L1', quantity: 1, productId: pick(['p1', 'p2']), category: pick(['tops', 'shoes']), supplierId: pick(['s1', 's2']) }],
    });
    return { history, start, answer: Math.floor(next() ** 3 * 300_000), end: Math.floor(next() ** 2 * 900_000) };
  });
  const steps: Array<(c: (typeof cases)[number]) => void> = [
    (c) => (next() < 0.85 ? c.history.add('MerchantRejected', { reason: 'no' }, iso(c.start + c.answer * 1000), MERCHANT, 'web') : undefined),
    (c) => c.history.add('CaseEscalated', { reason: 'please' }, iso(c.start + c.answer * 1000 + 1000)),
    (c) => (next() < 0.7 ? c.history.add('CaseClaimed', { agentId: pick(['agent-1', 'agent-2']) }, iso(c.start + c.answer * 1000 + 2000), AGENT, 'agent') : undefined),
    (c) => (next() < 0.3 ? c.history.add('CaseTransferred', { agentId: 'agent-3' }, iso(c.start + c.answer * 1000 + 3000), { role: 'admin', id: 'admin-1' }, 'web') : undefined),
    (c) => (next() < 0.6 ? c.history.add('CaseClosed', { reason: 'resolved' }, iso(c.start + c.answer * 1000 + c.end * 1000 + 4000), PAYMENTS, 'api') : undefined),
    (c) => (next() < 0.5 ? c.history.add('SatisfactionRated', { score: 1 + Math.floor(next() * 5), nps: Math.floor(next() * 11) }, iso(c.start + 5_000_000_000)) : undefined),
  ];
  for (const step of steps) for (const c of cases) step(c);
  return cases.flatMap((c) => c.history.events).sort((a, b) => a.position - b.position);
}

async function storeInBatches(store: ReadStore, events: StoredEvent[], size: number): Promise<void> {
  await prepareProjection(store, caseAnalyticsProjection);
  for (let i = 0; i < events.length; i += size) {
    const batch = events.slice(i, i + size);
    const expected = await readCheckpoint(store.db, caseAnalyticsProjection.name);
    await storeBatch(store, caseAnalyticsProjection, { expected, position: batch[batch.length - 1].position, events: batch });
  }
}

/**
 * A stored histogram's (bucket index, count) pairs: per bucket, its index's
 * step from the last one's (less one) and its count, each five bits per
 * character ('0' + bits), least significant first, bit 32 on all but a number's last character.
 */
function pairs(text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let at = 0;
  const number = () => {
    let value = 0;
    for (let scale = 1; ; scale *= 32) {
      const digit = text.charCodeAt(at++) - 48;
      value += (digit & 31) * scale;
      if (digit < 32) return value;
    }
  };
  let bucket = -1;
  while (at < text.length) {
    bucket += number() + 1;
    out.push([bucket, number()]);
  }
  return out;
}

/** The smallest value with at least p % of the values at or below it. */
function nearestRank(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p * sorted.length) / 100) - 1];
}

const GROUP_COLUMN: Record<AnalyticsGroup, keyof CaseFactsRow> = {
  day: 'day',
  merchant: 'merchant_id',
  reason: 'reason',
  department: 'department',
  product: 'product_id',
  category: 'category',
  supplier: 'supplier_id',
  agent: 'agent_id',
};

/** The summary worked out from the cases themselves, percentiles exact. */
function expectedSummary(facts: CaseFactsRow[], range: { from: string; to: string }, groupBy: AnalyticsGroup) {
  const groups = new Map<string, CaseFactsRow[]>();
  for (const row of facts) {
    if (row.requested_at < range.from || row.requested_at >= range.to) continue;
    const key = (row[GROUP_COLUMN[groupBy]] as string | null) ?? NO_AGENT;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return [...groups.keys()].sort().map((key) => {
    const rows = groups.get(key) ?? [];
    const durations = (column: 'first_response_seconds' | 'resolution_seconds') => rows.filter((r) => r[column] !== null).map((r) => Number(r[column]));
    const rated = rows.filter((r) => r.rating !== null);
    const npsRows = rows.filter((r) => r.nps !== null);
    const share = (n: number) => Math.round((n / rows.length) * 10_000) / 10_000;
    return {
      totals: {
        key,
        cases: rows.length,
        refunded: rows.reduce((n, r) => n + Number(r.refunded), 0),
        compensated: rows.reduce((n, r) => n + Number(r.compensated), 0),
        autoApprovedRate: share(rows.filter((r) => Number(r.auto_approved) === 1).length),
        deadlineDecidedRate: share(rows.filter((r) => Number(r.deadline_decided) === 1).length),
        expressRefunds: rows.filter((r) => Number(r.express_refund) === 1).length,
        expressDisputed: rows.filter((r) => Number(r.express_disputed) === 1).length,
        ...(rated.length > 0 ? { ratingAvg: Math.round((rated.reduce((n, r) => n + Number(r.rating), 0) / rated.length) * 10_000) / 10_000 } : {}),
        ...(npsRows.length > 0
          ? { nps: Math.round(((npsRows.filter((r) => Number(r.nps) >= 9).length - npsRows.filter((r) => Number(r.nps) <= 6).length) / npsRows.length) * 100) }
          : {}),
      },
      percentiles: {
        firstResponseP50: nearestRank(durations('first_response_seconds'), 50),
        firstResponseP90: nearestRank(durations('first_response_seconds'), 90),
        resolutionP50: nearestRank(durations('resolution_seconds'), 50),
        resolutionP90: nearestRank(durations('resolution_seconds'), 90),
      },
    };
  });
}

/** docs/api.md: a reported percentile is never below the exact one, exact below 128 s, and less than 1/64 of it above. */
function withinPrecision(reported: number | null, exact: number | null): boolean {
  if (exact === null || reported === null) return reported === exact;
  if (exact < 128) return reported === exact;
  return reported >= exact && reported - exact < exact / 64;
}

describe.each(DIALECTS)('analytics summary from the daily rollup on %s', (dialect) => {
  let t: TestReadStore;

  beforeEach(async () => {
    t = await openTestReadStore(dialect);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('agrees with the cases themselves for ranges of whole and partial days, whatever the batches', async () => {
    const next = random(20260701);
    const events = histories(80, next);
    await storeInBatches(t.store, events, 17);
    const facts = await t.store.db.selectFrom('rm_case_facts').selectAll().execute();
    expect(facts).toHaveLength(80);

    // The rollup holds each case once per groupBy, and no emptied row (cases moved to another agent leave none behind).
    for (const dimension of ANALYTICS_GROUPS) {
      const rows = await t.store.db.selectFrom('rm_case_facts_daily').select(['cases']).where('dimension', '=', dimension).execute();
      expect(rows.reduce((n, r) => n + Number(r.cases), 0)).toBe(80);
      expect(rows.every((r) => Number(r.cases) > 0)).toBe(true);
    }

    const ranges = [
      { from: iso(DAY0), to: iso(DAY0 + 5 * 86_400_000) },
      { from: iso(DAY0 + 86_400_000), to: iso(DAY0 + 3 * 86_400_000) },
      { from: iso(DAY0 + 5_000_000), to: iso(DAY0 + 3 * 86_400_000 + 7_000_000) },
      { from: iso(DAY0 + 90_000_000), to: iso(DAY0 + 150_000_000) },
      { from: iso(DAY0 + 3_600_000), to: iso(DAY0 + 7_200_000) },
      { from: iso(DAY0 + 3 * 86_400_000 + 1), to: iso(DAY0 + 9 * 86_400_000 - 1) },
    ];
    for (const _ of [1, 2, 3, 4]) {
      const a = DAY0 + Math.floor(next() * 4 * 86_400_000);
      const b = DAY0 + Math.floor(next() * 4 * 86_400_000);
      ranges.push({ from: iso(Math.min(a, b)), to: iso(Math.max(a, b)) });
    }
    const query = new AnalyticsQuery(t.store);
    for (const range of ranges) {
      for (const groupBy of ANALYTICS_GROUPS) {
        const summary = await query.summary(range, groupBy);
        const expected = expectedSummary(facts, range, groupBy);
        const label = `${groupBy} ${range.from} ${range.to}`;
        expect([label, summary.items.map(({ firstResponseP50, firstResponseP90, resolutionP50, resolutionP90, ...totals }) => totals)]).toEqual([
          label,
          expected.map((e) => e.totals),
        ]);
        summary.items.forEach((item: AnalyticsSummaryItem, i) => {
          for (const [name, exact] of Object.entries(expected[i].percentiles)) {
            const reported = item[name as keyof typeof expected[number]['percentiles']];
            if (!withinPrecision(reported, exact)) throw new Error(`${label} ${item.key} ${name}: ${reported} for exact ${exact}`);
          }
        });
      }
    }
  }, 60_000);

  it('leaves a row per day and key, summed over the days a range covers whole', async () => {
    const a = new CaseHistory('d1').requested('2026-08-01T10:00:00.000Z').add('MerchantRejected', { reason: 'no' }, '2026-08-01T10:01:40.000Z', MERCHANT, 'web');
    const b = new CaseHistory('d2').requested('2026-08-01T23:00:00.000Z', { merchantId: 'm2' }).add('MerchantRejected', { reason: 'no' }, '2026-08-01T23:00:30.000Z', MERCHANT, 'web');
    const c = new CaseHistory('d3').requested('2026-08-02T01:00:00.000Z');
    await storeInBatches(t.store, [...a.events, ...b.events, ...c.events].sort((x, y) => x.position - y.position), 2);
    const rows = await t.store.db
      .selectFrom('rm_case_facts_daily')
      .select(['day', 'key', 'cases', 'first_response'])
      .where('dimension', '=', 'merchant')
      .orderBy('day')
      .orderBy('key')
      .execute();
    // Below 128 s a bucket's index is its second.
    expect(rows.map((r) => ({ ...r, cases: Number(r.cases), first_response: pairs(r.first_response) }))).toEqual([
      { day: '2026-08-01', key: 'm1', cases: 1, first_response: [[100, 1]] },
      { day: '2026-08-01', key: 'm2', cases: 1, first_response: [[30, 1]] },
      { day: '2026-08-02', key: 'm1', cases: 1, first_response: [] },
    ]);
    // 100 = 4 + 3 × 32: '0'+32+4, '0'+3; then the count 1.
    expect(rows[0].first_response).toBe('T31');
    expect(rows[2].first_response).toBe('');
    const summary = await new AnalyticsQuery(t.store).summary({ from: '2026-08-01T00:00:00.000Z', to: '2026-08-02T12:00:00.000Z' }, 'merchant');
    expect(summary.items.map((i) => [i.key, i.cases, i.firstResponseP50, i.firstResponseP90])).toEqual([
      ['m1', 2, 100, 100],
      ['m2', 1, 30, 30],
    ]);
  });

  it('stores counts and bucket steps of several characters, and reads them back whole', async () => {
    // 200 answers of 5,000 s (bucket index above 128) and one of 3 days on the same day: counts and steps that take several characters.
    const histories = Array.from({ length: 200 }, (_, n) =>
      new CaseHistory(`big${n}`).requested('2026-09-01T08:00:00.000Z').add('MerchantRejected', { reason: 'no' }, '2026-09-01T09:23:20.000Z', MERCHANT, 'web'),
    );
    histories.push(new CaseHistory('slow').requested('2026-09-01T08:00:00.000Z').add('MerchantRejected', { reason: 'no' }, '2026-09-04T08:00:00.000Z', MERCHANT, 'web'));
    await storeInBatches(t.store, histories.flatMap((h) => h.events).sort((x, y) => x.position - y.position), 64);
    const [row] = await t.store.db.selectFrom('rm_case_facts_daily').select(['cases', 'first_response']).where('dimension', '=', 'day').execute();
    const stored = pairs(row.first_response);
    expect(Number(row.cases)).toBe(201);
    expect(stored.map(([, n]) => n)).toEqual([200, 1]);
    expect(stored[0][0]).toBeGreaterThan(128);
    expect(stored[1][0] - stored[0][0]).toBeGreaterThan(128);
    const summary = await new AnalyticsQuery(t.store).summary({ from: '2026-09-01T00:00:00.000Z', to: '2026-09-02T00:00:00.000Z' }, 'day');
    // 5,000 s lies in the bucket [4,992, 5,055]; 259,200 s in [258,048, 260,095].
    expect(summary.items.map((i) => [i.cases, i.firstResponseP50, i.firstResponseP90])).toEqual([[201, 5055, 5055]]);
    const all = await new AnalyticsQuery(t.store).summary({ from: '2026-09-01T00:00:00.000Z', to: '2026-09-02T00:00:00.000Z' }, 'merchant');
    expect(all.items[0].firstResponseP50).toBe(5055);
  });

  it('keeps the rollup in its key order on SQLite, so a range of days is read from neighbouring pages', async () => {
    if (!t.store.sqlite) return;
    await prepareProjection(t.store, caseAnalyticsProjection);
    const table = t.store.sqlite.prepare("select sql from sqlite_master where type = 'table' and name = 'rm_case_facts_daily'").get() as { sql: string };
    expect(table.sql.toLowerCase()).toContain('without rowid');
    const plan = t.store.sqlite
      .prepare("explain query plan select key, first_response, resolution from rm_case_facts_daily where dimension = 'product' and day >= '2026-06-01' and day < '2026-09-01'")
      .all() as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/SEARCH rm_case_facts_daily USING PRIMARY KEY \(dimension=\? AND day>\? AND day<\?\)/);
  });
});
