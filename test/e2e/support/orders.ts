import { randomUUID } from 'node:crypto';

export interface OrderLine {
  lineId: string;
  sku: string;
  productId: string;
  title: string;
  category: string;
  supplierId: string;
  quantity: number;
  unitPrice: number;
  paidAmount: number;
  noReasonReturn: boolean;
}

export interface OrderSnapshot {
  buyerId: string;
  merchantId: string;
  currency: string;
  paidAmount: number;
  shippingFee: number;
  paymentMethod: string;
  paymentAccount: string;
  buyerTrustScore: number;
  returnShippingInsured: boolean;
  businessLine: string;
  placedAt: string;
  lines: OrderLine[];
}

/** An id of API.md's alphabet, unique across suites and runs. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().replace(/-/g, '').slice(0, 16)}`;
}

export const hoursAgo = (hours: number): string => new Date(Date.now() - hours * 3_600_000).toISOString();

export interface LineSpec {
  lineId?: string;
  quantity?: number;
  unitPrice?: number;
  /** Defaults to quantity × unitPrice (no discount). */
  paidAmount?: number;
  noReasonReturn?: boolean;
}

export interface OrderSpec {
  buyerId: string;
  merchantId: string;
  businessLine: string;
  lines?: LineSpec[];
  shippingFee?: number;
  /** Below the auto-review (600) and express-refund (700) defaults, so a person decides. */
  buyerTrustScore?: number;
  returnShippingInsured?: boolean;
  placedAt?: string;
}

/**
 * An order snapshot whose money adds up as API.md requires: each line's
 * `paidAmount` is for all its units, the order's is the lines plus shipping.
 */
export function buildOrder(spec: OrderSpec): OrderSnapshot {
  const lines = (spec.lines ?? [{}]).map((line, index): OrderLine => {
    const quantity = line.quantity ?? 1;
    const unitPrice = line.unitPrice ?? 12_000;
    return {
      lineId: line.lineId ?? `L${index + 1}`,
      sku: `sku-${index + 1}`,
      productId: `p-${index + 1}`,
      title: `Product ${index + 1}`,
      category: index % 2 === 0 ? 'apparel' : 'electronics',
      supplierId: `s-${index + 1}`,
      quantity,
      unitPrice,
      paidAmount: line.paidAmount ?? quantity * unitPrice,
      noReasonReturn: line.noReasonReturn ?? true,
    };
  });
  const shippingFee = spec.shippingFee ?? 800;
  return {
    buyerId: spec.buyerId,
    merchantId: spec.merchantId,
    currency: 'CNY',
    paidAmount: lines.reduce((sum, line) => sum + line.paidAmount, 0) + shippingFee,
    shippingFee,
    paymentMethod: 'alipay',
    paymentAccount: `acct-${spec.buyerId}`,
    buyerTrustScore: spec.buyerTrustScore ?? 500,
    returnShippingInsured: spec.returnShippingInsured ?? false,
    businessLine: spec.businessLine,
    placedAt: spec.placedAt ?? hoursAgo(72),
    lines,
  };
}
