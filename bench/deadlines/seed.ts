/*
 * The history of cases whose merchant-response deadline falls due at one
 * chosen moment, written straight into the service's SQLite file before the
 * service starts. Each order and case is decided by the real domain
 * (`decideOrder`, `decideCase`, `orderCommandsFor`) at a fixed `now`, and
 * stamped with the metadata the command path gives its events, so the
 * streams are what `PUT /v1/orders`, `POST …/shipped` and `POST /v1/cases`
 * would have written at that moment: the order's OrderRegistered,
 * OrderShipped (and OrderDelivered) and OrderLinesHeld, the case's ReturnRequested and
 * DeadlineSet{merchantResponse}.
 */
import {
  DEFAULT_POLICY,
  caseStream,
  decideCase,
  decideOrder,
  evolveOrder,
  foldCase,
  initialCaseState,
  initialOrderState,
  orderCommandsFor,
  orderStream,
  type CaseCommand,
  type CaseEvent,
  type OrderCommand,
  type OrderEvent,
  type OrderSnapshot,
  type OrderState,
  type RecordedCaseEvent,
} from '@aftersales/domain';
import { timeOrderedUuid, toNewEvents, type CommandOrigin } from '@aftersales/application';
import { SqliteEventStore } from '@aftersales/event-store';

const HOUR = 3_600_000;
const MERCHANT = 'm-deadline-bench';
const INTEGRATION = { role: 'integration', id: 'order-system' } as const;
/** Appends queued at once: large group commits, bounded memory. */
const IN_FLIGHT = 500;

/**
 * What the cases ask for, and so what their auto-approval sets off:
 * - `refund_only`: shipped, not received; approval issues the refund at once,
 *   so each approval also sends a payment through the sandbox payment centre
 *   and takes its signed callback (RefundSettled, CaseCompleted);
 * - `return`: delivered, quality defect, no door pickup; approval only starts
 *   the buyer's ship-back deadline (one more delayed job), so the deadline
 *   path is measured alone.
 */
export type SeedKind = 'refund_only' | 'return';

export interface SeededCases {
  caseIds: string[];
  /** When the first case's merchantResponse deadline falls due (every case's, unless spread). */
  dueAt: Date;
  /** Each case's due time (ms since the epoch), by case id. */
  dueOf: Map<string, number>;
  seconds: number;
}

function orderSnapshot(orderId: string, i: number, now: Date): OrderSnapshot {
  const unitPrice = 20_000;
  const shippingFee = 800;
  return {
    orderId,
    buyerId: `b-dl-${i % 500}`,
    merchantId: MERCHANT,
    currency: 'CNY',
    paidAmount: unitPrice + shippingFee,
    shippingFee,
    paymentMethod: 'alipay',
    paymentAccount: `acct-dl-${i % 500}`,
    // Below autoReviewMinTrust, shipped and above the small-amount rule: no auto-review, the merchant must answer.
    buyerTrustScore: 500,
    returnShippingInsured: false,
    businessLine: 'home',
    placedAt: new Date(now.getTime() - 72 * HOUR).toISOString(),
    lines: [
      {
        lineId: 'L1',
        sku: 'sku-1',
        productId: `p-${i % 97}`,
        title: 'Product 1',
        category: 'home',
        supplierId: 's-1',
        quantity: 1,
        unitPrice,
        paidAmount: unitPrice,
        noReasonReturn: true,
      },
    ],
  };
}

function decideOrderSteps(state: OrderState, commands: readonly OrderCommand[], now: Date): { state: OrderState; events: OrderEvent[] } {
  const events: OrderEvent[] = [];
  let current = state;
  for (const command of commands) {
    const decision = decideOrder(current, command, { now });
    if (!decision.ok) throw new Error(`order ${command.type} refused: ${JSON.stringify(decision.refusal)}`);
    for (const event of decision.events) current = evolveOrder(current, event);
    events.push(...decision.events);
  }
  return { state: current, events };
}

/** The writes of one case's history, as the service's command path makes them. */
function historyOf(i: number, now: Date, kind: SeedKind) {
  const orderId = `o-dl-${i}`;
  const caseId = timeOrderedUuid();
  const snapshot = orderSnapshot(orderId, i, now);
  const registration = decideOrderSteps(initialOrderState, [{ type: 'register', actor: INTEGRATION, data: snapshot }], now);
  const shipping = decideOrderSteps(
    registration.state,
    [
      { type: 'mark-shipped', actor: INTEGRATION, data: { carrier: 'SF', trackingNumber: `SF${orderId}`, shippedAt: new Date(now.getTime() - 48 * HOUR).toISOString() } },
      ...(kind === 'return' ? [{ type: 'mark-delivered', actor: INTEGRATION, data: { deliveredAt: new Date(now.getTime() - 24 * HOUR).toISOString() } } as const] : []),
    ],
    now,
  );
  const buyer = { role: 'buyer', id: snapshot.buyerId } as const;
  const request: CaseCommand = {
    type: 'request',
    actor: buyer,
    data:
      kind === 'refund_only'
        ? { caseId, orderId, kind: 'refund_only', reason: 'not_received', lines: [{ lineId: 'L1', quantity: 1 }], channel: 'app', pickup: true }
        : {
            caseId,
            orderId,
            kind: 'return_and_refund',
            reason: 'quality_defect',
            lines: [{ lineId: 'L1', quantity: 1 }],
            evidence: ['https://img.example.com/defect.jpg'],
            channel: 'app',
            pickup: false,
          },
  };
  const decision = decideCase(initialCaseState, request, { now, policy: DEFAULT_POLICY, order: shipping.state, buyerFlagged: false });
  if (!decision.ok) throw new Error(`case request refused: ${JSON.stringify(decision.refusal)}`);
  const stamped: RecordedCaseEvent[] = decision.events.map((e: CaseEvent) => ({ ...e, metadata: { occurredAt: now.toISOString() } }) as RecordedCaseEvent);
  const after = foldCase(stamped, initialCaseState);
  if (after.status !== 'pending_merchant' || after.deadlines.merchantResponse === undefined) {
    throw new Error(`seeded case is ${after.status}; expected pending_merchant with a merchantResponse deadline`);
  }
  const held = decideOrderSteps(shipping.state, orderCommandsFor(initialCaseState, decision.events, after).before, now);
  const origin = (actor: CommandOrigin['actor'], channel: CommandOrigin['channel']): CommandOrigin => ({ actor, channel, correlationId: timeOrderedUuid() });
  return {
    orderId,
    caseId,
    // One append per order command, as the order routes make them.
    order: [registration.events, ...shipping.events.map((e) => [e])].map((events) => toNewEvents(events, origin(INTEGRATION, 'api'), now)),
    caseRequest: origin(buyer, 'app'),
    held: held.events,
    caseEvents: decision.events,
    dueAt: after.deadlines.merchantResponse,
  };
}

/**
 * Writes `count` orders and cases whose merchantResponse is due at `dueAt`
 * (they were requested `merchantResponse` before it, under the default
 * policy, which is what the service runs with when no POLICY_* is set).
 * With `spreadMs`, case i falls due i × spreadMs ÷ count after `dueAt`
 * instead: deadlines arriving at a steady rate rather than all at once.
 */
export async function seedCases(path: string, count: number, dueAt: Date, kind: SeedKind, spreadMs = 0): Promise<SeededCases> {
  const started = performance.now();
  const store = new SqliteEventStore({ path });
  const caseIds: string[] = [];
  const dueOf = new Map<string, number>();
  try {
    const writeOne = async (i: number): Promise<void> => {
      const due = new Date(dueAt.getTime() + Math.floor((i * spreadMs) / count));
      const now = new Date(due.getTime() - DEFAULT_POLICY.merchantResponse);
      const h = historyOf(i, now, kind);
      if (h.dueAt !== due.toISOString()) throw new Error(`case ${i} is due at ${h.dueAt}, not ${due.toISOString()}`);
      dueOf.set(h.caseId, due.getTime());
      let revision = -1;
      for (const events of h.order) {
        await store.append(orderStream(h.orderId), events, { expectedRevision: revision < 0 ? 'no_stream' : revision });
        revision += events.length;
      }
      // The request's writes: lines held on the order, then the case (ExecuteCaseCommandHandler's order).
      await store.append(orderStream(h.orderId), toNewEvents(h.held, h.caseRequest, now), { expectedRevision: revision });
      await store.append(caseStream(h.caseId), toNewEvents(h.caseEvents, h.caseRequest, now), { expectedRevision: 'no_stream' });
      caseIds[i] = h.caseId;
    };
    for (let from = 0; from < count; from += IN_FLIGHT) {
      const batch: Promise<void>[] = [];
      for (let i = from; i < Math.min(count, from + IN_FLIGHT); i += 1) batch.push(writeOne(i));
      await Promise.all(batch);
    }
  } finally {
    await store.close();
  }
  return { caseIds, dueAt, dueOf, seconds: (performance.now() - started) / 1000 };
}
