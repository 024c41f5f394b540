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

/** Cases per slice of the abuse watch's report: about 60 ms of SQLite each on a loaded machine. */
const REPORT_SLICE_CASES = 10_000;
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
  constructor(
    private readonly store: ReadStore,
    private readonly rules: AbuseRules = ABUSE_RULES,
  ) {}

  /** Throws InvalidCursorError unless `cursor` came from this report. */
  checkCursor(cursor: string | undefined): void {
    if (cursor !== undefined) decodeAbuseCursor(cursor);
  }

  async list(page: { limit: number; cursor?: string }): Promise<Page<AbuseItem>> {
    if (!(await this.factsExist())) return { items: [] };
    const after = page.cursor !== undefined ? decodeAbuseCursor(page.cursor) : undefined;
    const items: AbuseItem[] = [];
    for (const subject of ABUSE_SUBJECTS) {
      if (after && ABUSE_SUBJECTS.indexOf(subject) < ABUSE_SUBJECTS.indexOf(after.subject)) continue;
      // Sorted here, not by SQL: the cursor compares ids as JavaScript does, whatever the database's collation.
      const totals = (subject === 'buyer' ? await this.buyerTotals() : await this.accountTotals()).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      for (const t of totals) {
        if (after && subject === after.subject && t.id <= after.id) continue;
        const item = judge(subject, t, this.rules);
        if (item) items.push(item);
        if (items.length > page.limit) break;
      }
      if (items.length > page.limit) break;
    }
    const shown = items.slice(0, page.limit);
    const last = items.length > page.limit ? shown[shown.length - 1] : undefined;
    return { items: shown, ...(last ? { nextCursor: encodeListCursor(ABUSE_DIGEST, { key: last.subject, id: last.id }) } : {}) };
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
    const sliceCases = options.sliceCases ?? REPORT_SLICE_CASES;
    const totals: SubjectTotals[] = [];
    let after: string | undefined;
    for (;;) {
      const upTo = await this.sliceEnd(after, sliceCases);
      totals.push(...(await this.buyerTotals({ after, upTo })));
      if (upTo === undefined) break;
      after = upTo;
      await nextTurn();
    }
    return totals
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((t) => judge('buyer', t, this.rules))
      .filter((item): item is AbuseItem => item !== undefined);
  }

  /**
   * The buyer whose case is the `sliceCases`-th after `after` in the buyer
   * index (a bounded walk of it), or undefined when fewer are left: the
   * slice then runs to the end. Only partitions buyers, so the database's
   * collation does not matter here.
   */
  private async sliceEnd(after: string | undefined, sliceCases: number): Promise<string | undefined> {
    let query = this.store.db.selectFrom('rm_case_facts').select('buyer_id');
    if (after !== undefined) query = query.where('buyer_id', '>', after);
    const row = await query.orderBy('buyer_id').limit(1).offset(sliceCases - 1).executeTakeFirst();
    return row?.buyer_id;
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

  /** Per payment account: the same totals over its cases, and the distinct buyers paying from it. */
  private async accountTotals(): Promise<SubjectTotals[]> {
    const { db } = this.store;
    const orders = await db
      .selectFrom('rm_case_facts_orders')
      .select((eb) => ['payment_account as id', eb.fn.sum<number>('paid_amount').as('paid'), sql<number>`count(distinct buyer_id)`.as('buyers')])
      .groupBy('payment_account')
      .execute();
    const cases = new Map<string, { cases: number; refunded: number; refundOnly: number }>();
    const rows = await db
      .selectFrom('rm_case_facts')
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
