import { sql } from 'kysely';
import { ABUSE_RULES, type AbuseRules } from '@aftersales/domain';
import { CASE_ANALYTICS } from '../projections/case-analytics.projection';
import { readCheckpoint } from '../runner/checkpoints';
import type { ReadStore } from '../store/read-store';
import type { Page } from './case-list.query';
import { decodeListCursor, encodeListCursor, InvalidCursorError, listScopeDigest } from './list-cursor';

// When a buyer or a payment account looks abusive (DOMAIN.md, "What analysts
// need"): the thresholds are policy data (ABUSE_RULES in the domain's
// policy), shared with the worker's abuse watch that flags the buyers named here.
export { ABUSE_RULES, type AbuseRules };

export const ABUSE_SUBJECTS = ['buyer', 'paymentAccount'] as const;
export type AbuseSubject = (typeof ABUSE_SUBJECTS)[number];

export interface AbuseItem {
  subject: AbuseSubject;
  id: string;
  /** Why it is reported, one sentence per rule it breaks. */
  reasons: string[];
  cases: number;
  /** Money refunded (compensation excluded) over money paid on its orders, 0 to 1 (four decimals). */
  refundRatio: number;
  /** Payment accounts: the distinct buyers paying from it. */
  buyers?: number;
}

/** Rows per slice of the report: 15 to 30 ms of SQLite each at 50,000 cases (the event loop waits no longer). */
const REPORT_SLICE_CASES = 2_500;
/**
 * How long a computed report serves `GET /v1/analytics/abuse` (every page of
 * it) for callers who ask for no later `minPosition`. The report aggregates
 * every case and order, about half a second of SQL at 50,000 cases, so a
 * caller paging through it, or refreshing, would otherwise pay that again
 * for each page.
 */
export const ABUSE_REPORT_MAX_AGE_MS = 10_000;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface SubjectTotals {
  id: string;
  cases: number;
  refunded: number;
  refundOnlyWithoutReturn: number;
  paid: number;
  buyers?: number;
}

/**
 * `GET /v1/analytics/abuse` from the `case_analytics` read model: buyers,
 * then payment accounts, each by id, that break at least one of `rules`.
 * The report aggregates every case and order; a page resumes after the last
 * subject and id it showed.
 */
export class AbuseQuery {
  /** The last report, with the projection's checkpoint it was read at (at least) and when it began. */
  private report?: { position: number; startedAt: number; items: AbuseItem[] };
  private computing?: Promise<{ position: number; startedAt: number; items: AbuseItem[] }>;

  private readonly now: () => number;
  private readonly sliceRows: number;

  constructor(
    private readonly store: ReadStore,
    private readonly rules: AbuseRules = ABUSE_RULES,
    options: { now?: () => number; sliceRows?: number } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.sliceRows = options.sliceRows ?? REPORT_SLICE_CASES;
  }

  /** Throws InvalidCursorError unless `cursor` came from this report. */
  checkCursor(cursor: string | undefined): void {
    if (cursor !== undefined) decodeAbuseCursor(cursor);
  }

  /**
   * One page of the report: subjects in order (buyers, then payment
   * accounts), each by id. Every page of a report comes from one reading of
   * it, kept for ABUSE_REPORT_MAX_AGE_MS, unless the caller asks for a later
   * `minPosition` of the case_analytics projection than it was read at.
   */
  async list(page: { limit: number; cursor?: string; minPosition?: number }): Promise<Page<AbuseItem>> {
    if (!(await this.factsExist())) return { items: [] };
    const after = page.cursor !== undefined ? decodeAbuseCursor(page.cursor) : undefined;
    const { items: report } = await this.current(page.minPosition ?? 0);
    const start = after === undefined ? 0 : report.findIndex((item) => compareSubjects(item, after) > 0);
    const shown = start < 0 ? [] : report.slice(start, start + page.limit);
    const more = start >= 0 && report.length > start + page.limit;
    const last = more ? shown[shown.length - 1] : undefined;
    return { items: shown, ...(last ? { nextCursor: encodeListCursor(ABUSE_DIGEST, { key: last.subject, id: last.id }) } : {}) };
  }

  /** A report read at `minPosition` or later and still young enough, or a new one (callers at the same time share it). */
  private async current(minPosition: number): Promise<{ position: number; startedAt: number; items: AbuseItem[] }> {
    for (;;) {
      const report = this.report;
      if (report && report.position >= minPosition && this.now() - report.startedAt < ABUSE_REPORT_MAX_AGE_MS) return report;
      if (!this.computing) {
        this.computing = this.read().finally(() => (this.computing = undefined));
        return this.computing;
      }
      const shared = await this.computing;
      if (shared.position >= minPosition) return shared;
    }
  }

  /**
   * Reads the whole report, in slices of whole buyers and whole payment
   * accounts with a turn of the event loop between two: one statement over
   * every case held the API's event loop, and every request with it, for
   * seconds on a large store.
   */
  private async read(): Promise<{ position: number; startedAt: number; items: AbuseItem[] }> {
    const startedAt = this.now();
    // Read before the slices: each slice sees at least this much of the log.
    const position = await readCheckpoint(this.store.db, CASE_ANALYTICS);
    const byId = (a: SubjectTotals, b: SubjectTotals) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    const buyers = (await this.sliced('rm_case_facts', 'buyer_id', this.sliceRows, (range) => this.buyerTotals(range))).sort(byId);
    const accounts = (await this.sliced('rm_case_facts_orders', 'payment_account', this.sliceRows, (range) => this.accountTotals(range))).sort(byId);
    const items = [
      ...buyers.map((t) => judge('buyer', t, this.rules)),
      ...accounts.map((t) => judge('paymentAccount', t, this.rules)),
    ].filter((item): item is AbuseItem => item !== undefined);
    const report = { position, startedAt, items };
    this.report = report;
    return report;
  }

  /** Totals read slice by slice: each slice about `sliceRows` rows of `table`, whole values of `column` each. */
  private async sliced(
    table: 'rm_case_facts' | 'rm_case_facts_orders',
    column: 'buyer_id' | 'payment_account',
    sliceRows: number,
    totals: (range: { after?: string; upTo?: string }) => Promise<SubjectTotals[]>,
  ): Promise<SubjectTotals[]> {
    const all: SubjectTotals[] = [];
    let after: string | undefined;
    for (;;) {
      const upTo = await this.sliceEnd(table, column, after, sliceRows);
      all.push(...(await totals({ after, upTo })));
      if (upTo === undefined) return all;
      after = upTo;
      await nextTurn();
    }
  }

  /**
   * Every buyer that breaks a rule, by id: what the abuse watch flags. Read
   * in slices of about `sliceCases` cases (whole buyers each), the event loop
   * getting a turn between two: the report aggregates every case, and on
   * SQLite one statement over 200,000 cases held the worker thread for
   * seconds. A buyer's totals come from one slice, as they came from one
   * statement before; the report was never one snapshot (cases and payments
   * are two statements), and the watch flags through commands that check the
   * buyer's own stream anyway.
   */
  async reportedBuyers(options: { sliceCases?: number } = {}): Promise<AbuseItem[]> {
    if (!(await this.factsExist())) return [];
    const totals = await this.sliced('rm_case_facts', 'buyer_id', options.sliceCases ?? this.sliceRows, (range) => this.buyerTotals(range));
    return totals
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((t) => judge('buyer', t, this.rules))
      .filter((item): item is AbuseItem => item !== undefined);
  }

  /**
   * The value of `column` on the `sliceRows`-th row after `after` in its
   * index (a bounded walk of it), or undefined when fewer are left: the
   * slice then runs to the end. Only partitions the values, so the
   * database's collation does not matter here.
   */
  private async sliceEnd(
    table: 'rm_case_facts' | 'rm_case_facts_orders',
    column: 'buyer_id' | 'payment_account',
    after: string | undefined,
    sliceRows: number,
  ): Promise<string | undefined> {
    const { ref } = this.store.db.dynamic;
    let query = this.store.db.selectFrom(table).select(sql<string>`${sql.ref(column)}`.as('value')).where(ref(column), 'is not', null);
    if (after !== undefined) query = query.where(ref(column), '>', after);
    const row = await query.orderBy(ref(column)).limit(1).offset(sliceRows - 1).executeTakeFirst();
    return (row as { value?: string } | undefined)?.value ?? undefined;
  }

  /**
   * Whether the case_analytics projection has taken in any event. Its tables
   * are created with its first checkpoint by the projector, which may start
   * after the API or the worker: until then there is nothing to report.
   */
  private async factsExist(): Promise<boolean> {
    return (await readCheckpoint(this.store.db, CASE_ANALYTICS)) > 0;
  }

  /** How many cases the buyer requested after `at` (an ISO-8601 time, as events record it). */
  async casesRequestedAfter(buyerId: string, at: string): Promise<number> {
    const row = await this.store.db
      .selectFrom('rm_case_facts')
      .select((eb) => eb.fn.countAll<number>().as('cases'))
      .where('buyer_id', '=', buyerId)
      .where('requested_at', '>', at)
      .executeTakeFirst();
    return Number(row?.cases ?? 0);
  }

  /** Per buyer: cases, refunds and refund-only cases without a return; what its orders paid. Only buyers the ratio rules may judge. */
  private async buyerTotals(range: { after?: string; upTo?: string } = {}): Promise<SubjectTotals[]> {
    const { db } = this.store;
    const cases = await db
      .selectFrom('rm_case_facts')
      .$if(range.after !== undefined, (q) => q.where('buyer_id', '>', range.after as string))
      .$if(range.upTo !== undefined, (q) => q.where('buyer_id', '<=', range.upTo as string))
      .select((eb) => [
        'buyer_id as id',
        eb.fn.countAll<number>().as('cases'),
        sql<number>`sum(refunded - compensated)`.as('refunded'),
        sql<number>`sum(case when kind = 'refund_only' and returned = 0 and refunded > compensated then 1 else 0 end)`.as('refund_only'),
      ])
      .groupBy('buyer_id')
      .having((eb) => eb.fn.countAll(), '>=', this.rules.minCases)
      .execute();
    const paid = new Map<string, number>();
    const rows = await db
      .selectFrom('rm_case_facts_orders')
      .$if(range.after !== undefined, (q) => q.where('buyer_id', '>', range.after as string))
      .$if(range.upTo !== undefined, (q) => q.where('buyer_id', '<=', range.upTo as string))
      .select((eb) => ['buyer_id', eb.fn.sum<number>('paid_amount').as('paid')])
      .groupBy('buyer_id')
      .execute();
    for (const row of rows) paid.set(row.buyer_id, Number(row.paid));
    return cases.map((c) => ({
      id: c.id,
      cases: Number(c.cases),
      refunded: Number(c.refunded),
      refundOnlyWithoutReturn: Number(c.refund_only),
      paid: paid.get(c.id) ?? 0,
    }));
  }

  /** Per payment account in the range: the same totals over its cases, and the distinct buyers paying from it. */
  private async accountTotals(range: { after?: string; upTo?: string } = {}): Promise<SubjectTotals[]> {
    const { db } = this.store;
    const orders = await db
      .selectFrom('rm_case_facts_orders')
      .$if(range.after !== undefined, (q) => q.where('payment_account', '>', range.after as string))
      .$if(range.upTo !== undefined, (q) => q.where('payment_account', '<=', range.upTo as string))
      .select((eb) => ['payment_account as id', eb.fn.sum<number>('paid_amount').as('paid'), sql<number>`count(distinct buyer_id)`.as('buyers')])
      .groupBy('payment_account')
      .execute();
    const cases = new Map<string, { cases: number; refunded: number; refundOnly: number }>();
    const rows = await db
      .selectFrom('rm_case_facts')
      .$if(range.after !== undefined, (q) => q.where('payment_account', '>', range.after as string))
      .$if(range.upTo !== undefined, (q) => q.where('payment_account', '<=', range.upTo as string))
      .select((eb) => [
        'payment_account',
        eb.fn.countAll<number>().as('cases'),
        sql<number>`sum(refunded - compensated)`.as('refunded'),
        sql<number>`sum(case when kind = 'refund_only' and returned = 0 and refunded > compensated then 1 else 0 end)`.as('refund_only'),
      ])
      .where('payment_account', 'is not', null)
      .groupBy('payment_account')
      .execute();
    for (const row of rows) cases.set(row.payment_account ?? '', { cases: Number(row.cases), refunded: Number(row.refunded), refundOnly: Number(row.refund_only) });
    return orders.map((o) => {
      const c = cases.get(o.id);
      return { id: o.id, cases: c?.cases ?? 0, refunded: c?.refunded ?? 0, refundOnlyWithoutReturn: c?.refundOnly ?? 0, paid: Number(o.paid), buyers: Number(o.buyers) };
    });
  }
}

/** Report order: buyers before payment accounts, each by id (as JavaScript compares strings). */
function compareSubjects(a: { subject: AbuseSubject; id: string }, b: { subject: AbuseSubject; id: string }): number {
  const bySubject = ABUSE_SUBJECTS.indexOf(a.subject) - ABUSE_SUBJECTS.indexOf(b.subject);
  if (bySubject !== 0) return bySubject;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The subject with the reasons it breaks the rules for, or undefined when it breaks none. */
export function judge(subject: AbuseSubject, t: SubjectTotals, rules: AbuseRules): AbuseItem | undefined {
  const refundRatio = t.paid > 0 ? round(t.refunded / t.paid) : 0;
  const reasons: string[] = [];
  if (t.cases >= rules.minCases) {
    if (t.paid > 0 && refundRatio >= rules.refundRatio) {
      reasons.push(`refunded ${percent(refundRatio)} of what its orders paid over ${t.cases} cases (rule: ${percent(rules.refundRatio)} from ${rules.minCases} cases)`);
    }
    const share = t.refundOnlyWithoutReturn / t.cases;
    if (share >= rules.refundOnlyShare) {
      reasons.push(
        `${t.refundOnlyWithoutReturn} of ${t.cases} cases refunded as refund_only with nothing returned (rule: ${percent(rules.refundOnlyShare)} from ${rules.minCases} cases)`,
      );
    }
  }
  if (t.buyers !== undefined && t.buyers >= rules.buyersPerPaymentAccount) {
    reasons.push(`${t.buyers} buyers pay from this account (rule: ${rules.buyersPerPaymentAccount} or more)`);
  }
  if (reasons.length === 0) return undefined;
  return { subject, id: t.id, reasons, cases: t.cases, refundRatio, ...(t.buyers !== undefined ? { buyers: t.buyers } : {}) };
}

const round = (value: number): number => Math.round(value * 10_000) / 10_000;
const percent = (share: number): string => `${Math.round(share * 1000) / 10}%`;

/** The report has one scope (admins see it whole): its cursors carry a fixed digest. */
const ABUSE_DIGEST = listScopeDigest({ report: 'abuse' });

function decodeAbuseCursor(cursor: string): { subject: AbuseSubject; id: string } {
  const { key, id } = decodeListCursor(cursor, ABUSE_DIGEST);
  if (!(ABUSE_SUBJECTS as readonly string[]).includes(key)) throw new InvalidCursorError();
  return { subject: key as AbuseSubject, id };
}
