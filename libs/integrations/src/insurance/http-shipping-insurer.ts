import { answerObject, DEFAULT_PROVIDER_TIMEOUT_MS, postSigned } from '../http/signed-request';
import type { InsuranceClaim, ShippingInsurer } from './shipping-insurer';

export interface HttpShippingInsurerOptions {
  /** The claims endpoint; see `insuranceClaimsUrl`. */
  url: string;
  /** INTEGRATION_WEBHOOK_SECRET: requests are signed as the callbacks are. */
  secret: string;
  timeoutMs?: number;
  now?: () => Date;
}

/**
 * Where claims go when PAYMENTS=http: the payment centre's URL with
 * `/insurance-claims` added. The configuration has no insurer of its own, and
 * the payment centre is the party that pays money out to the buyer, so the
 * claim goes to it rather than to a new variable the API contract lacks.
 */
export const insuranceClaimsUrl = (paymentsUrl: string): string => `${paymentsUrl.replace(/\/+$/, '')}/insurance-claims`;

/**
 * Files a claim with a real insurer: a signed POST with the claimId as
 * Idempotency-Key. A 2xx with an empty body or a JSON object is acceptance;
 * another body is retried, as for refunds.
 */
export class HttpShippingInsurer implements ShippingInsurer {
  private readonly timeoutMs: number;
  private readonly now: () => Date;

  constructor(private readonly options: HttpShippingInsurerOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS;
    this.now = options.now ?? (() => new Date());
  }

  async claim(claim: InsuranceClaim): Promise<{ accepted: true }> {
    const answer = await postSigned({
      provider: 'insurance',
      url: this.options.url,
      secret: this.options.secret,
      idempotencyKey: claim.claimId,
      body: { claimId: claim.claimId, caseId: claim.caseId, orderId: claim.orderId, amount: claim.amount, currency: claim.currency },
      timeoutMs: this.timeoutMs,
      now: this.now,
    });
    answerObject('insurance', answer, true);
    return { accepted: true };
  }
}
