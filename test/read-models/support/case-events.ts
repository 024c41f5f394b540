import { randomUUID } from 'node:crypto';
import type { EventStore, NewEvent } from '@aftersales/event-store';

const event = (type: string, data: Record<string, unknown>, at: string): NewEvent => ({
  id: randomUUID(),
  type,
  data,
  metadata: { actor: { role: 'buyer', id: 'u1' }, channel: 'app', correlationId: randomUUID(), causationId: randomUUID(), schemaVersion: 1, occurredAt: at },
});

/**
 * Appends case `caseId` as a request then, by `steps`, a deadline and an
 * urge (each urge sets the priority to its own number, so a step applied
 * twice or lost shows in the row). Returns the case's last revision.
 */
export async function appendCase(store: EventStore, caseId: string, n: number, steps = 2): Promise<number> {
  const at = new Date(Date.UTC(2026, 4, 1, 0, 0, n)).toISOString();
  const request = event(
    'ReturnRequested',
    {
      caseId,
      orderId: `o-${caseId}`,
      buyerId: `u${n % 7}`,
      merchantId: `m${n % 3}`,
      businessLine: 'apparel',
      kind: 'refund_only',
      reason: 'not_received',
      responsible: 'logistics',
      department: 'logistics',
      lines: [{ lineId: 'L1', quantity: 1, productId: 'p1', category: 'tops', supplierId: 's1' }],
      requestedAmount: 1000 + n,
      currency: 'CNY',
      evidence: [],
      pickup: false,
    },
    at,
  );
  const rest: NewEvent[] = [];
  for (let i = 1; i < steps; i += 1) {
    rest.push(i === 1 ? event('DeadlineSet', { name: 'merchantResponse', dueAt: '2026-06-01T00:00:00.000Z' }, at) : event('CaseUrged', { waitingFor: 'merchant', priority: i - 1 }, at));
  }
  const result = await store.append(`aftersales-${caseId}`, [request, ...rest], { expectedRevision: 'no_stream' });
  return result.nextExpectedRevision;
}
