/** A return-shipping insurance claim (运费险, DOMAIN.md "Return shipping"). `claimId` is the idempotency key. */
export interface InsuranceClaim {
  claimId: string;
  caseId: string;
  orderId: string;
  /** Integer minor units. */
  amount: number;
  /** ISO 4217. */
  currency: string;
}

/**
 * The insurer that pays an insured order's return fee. There is no insurance
 * callback (API.md): the worker records `ShippingInsurancePaid` from this
 * answer. One call is one attempt; failures throw ProviderRetryableError or
 * ProviderRejectedError.
 */
export interface ShippingInsurer {
  claim(claim: InsuranceClaim): Promise<{ accepted: true }>;
}

export const SHIPPING_INSURER = Symbol('SHIPPING_INSURER');
