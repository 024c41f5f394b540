/** The refund a payment centre is asked to pay. `refundId` is its idempotency key on every attempt (DOMAIN.md, *Money*). */
export interface RefundSubmission {
  refundId: string;
  caseId: string;
  orderId: string;
  /** Integer minor units. */
  amount: number;
  /** ISO 4217. */
  currency: string;
  purpose: 'refund' | 'compensation';
  express: boolean;
}

/** The payment centre took the refund; its outcome arrives later through the signed payments callback. */
export interface RefundAccepted {
  accepted: true;
  providerRef?: string;
}

/**
 * The payment centre (API.md, "Outbound"). One call is one attempt: it
 * resolves when the refund was accepted, or throws ProviderRetryableError or
 * ProviderRejectedError.
 */
export interface PaymentCentre {
  submitRefund(refund: RefundSubmission): Promise<RefundAccepted>;
}

export const PAYMENT_CENTRE = Symbol('PAYMENT_CENTRE');
