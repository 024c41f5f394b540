import { randomUUID } from 'node:crypto';
import type { StoredEvent } from '@aftersales/event-store';

export interface ActorRef {
  role: string;
  id: string;
}

export const BUYER: ActorRef = { role: 'buyer', id: 'u1' };
export const MERCHANT: ActorRef = { role: 'merchant', id: 'm1-staff' };
export const AGENT: ActorRef = { role: 'agent', id: 'agent-1' };
export const SYSTEM: ActorRef = { role: 'system', id: 'scheduler' };
export const PAYMENTS: ActorRef = { role: 'integration', id: 'payments' };

let nextPosition = 1;

/**
 * Hand-built case streams as the store hands them over: each event with its
 * stream revision, a global position and the metadata commands record.
 */
export class CaseHistory {
  private revision = -1;
  readonly events: StoredEvent[] = [];

  constructor(readonly caseId: string) {}

  add(type: string, data: Record<string, unknown>, at: string, actor: ActorRef = BUYER, channel = 'app'): this {
    this.revision += 1;
    this.events.push({
      id: randomUUID(),
      streamName: `aftersales-${this.caseId}`,
      type,
      data,
      metadata: { actor, channel, correlationId: randomUUID(), causationId: randomUUID(), schemaVersion: 1, occurredAt: at },
      revision: this.revision,
      position: nextPosition++,
      recordedAt: new Date(at),
    });
    return this;
  }

  requested(at: string, overrides: Record<string, unknown> = {}): this {
    return this.add(
      'ReturnRequested',
      {
        caseId: this.caseId,
        orderId: `o-${this.caseId}`,
        buyerId: 'u1',
        merchantId: 'm1',
        businessLine: 'apparel',
        kind: 'refund_only',
        reason: 'not_received',
        responsible: 'logistics',
        department: 'logistics',
        lines: [{ lineId: 'L1', quantity: 1, productId: 'p1', category: 'tops', supplierId: 's1' }],
        requestedAmount: 5000,
        currency: 'CNY',
        evidence: [],
        pickup: false,
        ...overrides,
      },
      at,
    );
  }
}

/** An event of another stream (an order's), which case projections pass over. */
export function orderEvent(at: string): StoredEvent {
  return {
    id: randomUUID(),
    streamName: 'order-o9',
    type: 'OrderShipped',
    data: { carrier: 'sf', trackingNumber: 'T1', shippedAt: at },
    metadata: { occurredAt: at },
    revision: 1,
    position: nextPosition++,
    recordedAt: new Date(at),
  };
}
