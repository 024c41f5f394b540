import { answerObject, DEFAULT_PROVIDER_TIMEOUT_MS, postSigned } from '../http/signed-request';
import type { PaymentCentre, RefundAccepted, RefundSubmission } from './payment-centre';

export interface HttpPaymentCentreOptions {
  /** The payment centre's refund endpoint (PAYMENTS_URL). */
  url: string;
  /** INTEGRATION_WEBHOOK_SECRET: requests are signed as the callbacks are. */
  secret: string;
  timeoutMs?: number;
  now?: () => Date;
}

/**
 * Submits a refund to a real payment centre: a signed POST with the refundId
 * as Idempotency-Key. A 2xx is acceptance; its body, an empty one or a JSON
 * object, may carry the provider's reference. A 2xx with any other body is
 * retried: something other than the payment centre (a proxy's page, say) may
 * have answered, and the same refundId makes asking again harmless.
 */
export class HttpPaymentCentre implements PaymentCentre {
  private readonly timeoutMs: number;
  private readonly now: () => Date;

  constructor(private readonly options: HttpPaymentCentreOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS;
    this.now = options.now ?? (() => new Date());
  }

  async submitRefund(refund: RefundSubmission): Promise<RefundAccepted> {
    const answer = await postSigned({
      provider: 'payments',
      url: this.options.url,
      secret: this.options.secret,
      idempotencyKey: refund.refundId,
      body: {
        refundId: refund.refundId,
        caseId: refund.caseId,
        orderId: refund.orderId,
        amount: refund.amount,
        currency: refund.currency,
        purpose: refund.purpose,
        express: refund.express,
      },
      timeoutMs: this.timeoutMs,
      now: this.now,
    });
    const { providerRef } = answerObject('payments', answer, true);
    return typeof providerRef === 'string' && providerRef !== '' ? { accepted: true, providerRef } : { accepted: true };
  }
}
