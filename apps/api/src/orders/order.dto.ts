import { BooleanField, CurrencyField, IdField, InstantField, IntegerField, LinesField, TextField } from '../cases/fields';

// The order system's snapshot (API.md, Orders). Amounts are minor units.

const MAX_AMOUNT = Number.MAX_SAFE_INTEGER;
/**
 * The buyer trust score's scale. DOMAIN.md's thresholds (auto-review 600,
 * express refund 700) read as points out of 1000, so anything outside 0–1000
 * is a mistake of the sender rather than a very (un)trustworthy buyer.
 */
export const TRUST_SCORE_MAX = 1000;

export class OrderLineDto {
  @IdField({ description: 'Unique within the order', example: 'L1' })
  lineId!: string;

  @TextField({ description: 'Stock-keeping unit', example: 'TEE-M-BLUE' })
  sku!: string;

  @IdField({ example: 'p-tee' })
  productId!: string;

  @TextField({ example: 'Cotton tee, blue, M' })
  title!: string;

  @IdField({ description: 'Product category code', example: 'tops' })
  category!: string;

  @IdField({ example: 's-1' })
  supplierId!: string;

  @IntegerField(1, MAX_AMOUNT, { description: 'Units ordered', example: 2 })
  quantity!: number;

  @IntegerField(0, MAX_AMOUNT, { description: 'Minor units per unit', example: 10000 })
  unitPrice!: number;

  @IntegerField(0, MAX_AMOUNT, { description: 'Minor units paid for all the line\'s units', example: 20000 })
  paidAmount!: number;

  @BooleanField({ description: 'The line may be returned without a reason (七天无理由)' })
  noReasonReturn!: boolean;
}

export class RegisterOrderDto {
  @IdField({ example: 'u-1' })
  buyerId!: string;

  @IdField({ example: 'm-1' })
  merchantId!: string;

  @CurrencyField({ description: 'ISO 4217 code', example: 'CNY' })
  currency!: string;

  @IntegerField(0, MAX_AMOUNT, { description: 'Minor units: the lines\' paidAmount plus shippingFee (422 paid_amount_mismatch otherwise)', example: 21000 })
  paidAmount!: number;

  @IntegerField(0, MAX_AMOUNT, { description: 'Minor units', example: 1000 })
  shippingFee!: number;

  @IdField({ description: 'Payment method code', example: 'card' })
  paymentMethod!: string;

  @TextField({ description: 'The paying account as the payment centre names it', example: 'acct-42' })
  paymentAccount!: string;

  @IntegerField(0, TRUST_SCORE_MAX, { description: `The buyer's trust score, 0 to ${TRUST_SCORE_MAX}`, example: 650 })
  buyerTrustScore!: number;

  @BooleanField({ description: 'The order carries return-shipping insurance (运费险)' })
  returnShippingInsured!: boolean;

  @IdField({ description: 'Which agents serve the order', example: 'apparel' })
  businessLine!: string;

  @InstantField({ example: '2025-03-01T08:00:00Z' })
  placedAt!: string;

  @LinesField(() => OrderLineDto, 'lineId', { description: 'At least one line, each lineId once' })
  lines!: OrderLineDto[];
}

export class MarkShippedDto {
  @IdField({ description: 'Carrier code', example: 'sf-express' })
  carrier!: string;

  @IdField({ example: 'SF1234567890' })
  trackingNumber!: string;

  @InstantField({ example: '2025-03-02T10:00:00Z' })
  shippedAt!: string;
}

export class MarkDeliveredDto {
  @InstantField({ example: '2025-03-04T15:30:00+08:00' })
  deliveredAt!: string;
}
