import type { Actor } from '../kinds';
import type { OrderSnapshot } from '../order/events';

// Fixed times and parties for domain specs; nothing here reads a clock.

export const T0 = new Date('2025-03-01T08:00:00.000Z');
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const after = (ms: number, from: Date = T0): Date => new Date(from.getTime() + ms);

export const buyer: Actor = { role: 'buyer', id: 'u-buyer' };
export const otherBuyer: Actor = { role: 'buyer', id: 'u-other' };
export const merchant: Actor = { role: 'merchant', id: 'm-staff', merchantId: 'm1' };
export const otherMerchant: Actor = { role: 'merchant', id: 'm2-staff', merchantId: 'm2' };
export const agent: Actor = { role: 'agent', id: 'agent-1', businessLine: 'apparel', authorityLimit: 20_000 };
export const agent2: Actor = { role: 'agent', id: 'agent-2', businessLine: 'apparel', authorityLimit: 20_000 };
export const lowAgent: Actor = { role: 'agent', id: 'agent-low', businessLine: 'apparel', authorityLimit: 100 };
export const foreignAgent: Actor = { role: 'agent', id: 'agent-x', businessLine: 'groceries', authorityLimit: 1_000_000 };
export const arbitrator: Actor = { role: 'arbitrator', id: 'arb-1', businessLine: 'apparel' };
export const admin: Actor = { role: 'admin', id: 'admin-1' };
export const integration: Actor = { role: 'integration', id: 'order-system' };
export const system: Actor = { role: 'system', id: 'scheduler' };

export const ACTORS = { buyer, otherBuyer, merchant, otherMerchant, agent, agent2, lowAgent, foreignAgent, arbitrator, admin, integration, system };

/**
 * Two lines: L1 two units for 20000 (no-reason returns allowed), L2 one unit
 * for 9999 (not), shipping 1000: paid 30999. Trust 650 passes auto-review (600)
 * but not express refunds (700).
 */
export function orderSnapshot(overrides: Partial<OrderSnapshot> = {}): OrderSnapshot {
  const lines = overrides.lines ?? [
    { lineId: 'L1', sku: 'TEE-M', productId: 'p-tee', title: 'Tee', category: 'tops', supplierId: 's-1', quantity: 2, unitPrice: 10_000, paidAmount: 20_000, noReasonReturn: true },
    { lineId: 'L2', sku: 'CAP', productId: 'p-cap', title: 'Cap', category: 'hats', supplierId: 's-2', quantity: 1, unitPrice: 9_999, paidAmount: 9_999, noReasonReturn: false },
  ];
  const shippingFee = overrides.shippingFee ?? 1_000;
  return {
    orderId: 'o1',
    buyerId: buyer.id,
    merchantId: 'm1',
    currency: 'CNY',
    paymentMethod: 'card',
    paymentAccount: 'acct-1',
    buyerTrustScore: 650,
    returnShippingInsured: true,
    businessLine: 'apparel',
    placedAt: '2025-02-20T10:00:00.000Z',
    ...overrides,
    lines,
    shippingFee,
    paidAmount: overrides.paidAmount ?? lines.reduce((s, l) => s + l.paidAmount, 0) + shippingFee,
  };
}
