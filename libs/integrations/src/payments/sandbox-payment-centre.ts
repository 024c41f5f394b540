import type { OnApplicationShutdown } from '@nestjs/common';
import { iso } from '@aftersales/domain';
import { ProviderRetryableError } from '../provider-errors';
import { SandboxCallbacks, type SandboxCallbacksOptions } from '../sandbox/sandbox-callbacks';
import { digitsFrom } from '../sandbox/sandbox-reference';
import type { PaymentCentre, RefundAccepted, RefundSubmission } from './payment-centre';

export const PAYMENTS_CALLBACK_PATH = 'v1/integrations/payments/events';

export interface SandboxPaymentCentreOptions extends SandboxCallbacksOptions {
  /** SANDBOX_PAYMENT_SETTLE_MS: how long after acceptance a refund settles. */
  settleMs: number;
}

/**
 * The embedded payment centre (API.md, "Outbound"): accepts every refund at
 * once and settles it `settleMs` later through the signed payments callback,
 * so the outcome takes the same path as a real provider's. While a refund is
 * settling, submitting it again schedules nothing new; a refund it settled
 * before is settled again (the API acknowledges it as already recorded),
 * which is what the worker's reconciliation relies on when a callback was lost.
 */
export class SandboxPaymentCentre implements OnApplicationShutdown, PaymentCentre {
  private readonly callbacks: SandboxCallbacks;
  private readonly now: () => Date;
  /** Refunds accepted whose callback is not yet delivered or given up. */
  private readonly settling = new Set<string>();

  constructor(private readonly options: SandboxPaymentCentreOptions) {
    this.callbacks = new SandboxCallbacks(options);
    this.now = options.now ?? (() => new Date());
  }

  async submitRefund(refund: RefundSubmission): Promise<RefundAccepted> {
    // Shutting down: no settlement could follow, so the refund is not taken and the worker tries again.
    if (this.callbacks.closed) throw new ProviderRetryableError('payments', 'the sandbox payment centre is shut down');
    const providerRef = `sbx-pay-${digitsFrom(refund.refundId, 12)}`;
    if (!this.settling.has(refund.refundId)) {
      this.settling.add(refund.refundId);
      this.callbacks.later(this.options.settleMs, async () => {
        try {
          await this.callbacks.deliver(PAYMENTS_CALLBACK_PATH, { refundId: refund.refundId, status: 'succeeded', providerRef, at: iso(this.now()) });
        } finally {
          this.settling.delete(refund.refundId);
        }
      });
    }
    return { accepted: true, providerRef };
  }

  /** Refunds accepted and not yet settled through the callback. */
  get pending(): number {
    return this.settling.size;
  }

  /** Cancels every pending callback; later submissions are refused as retryable. */
  close(): Promise<void> {
    return this.callbacks.close();
  }

  /** Last in Nest's shutdown, so jobs finishing in onModuleDestroy can still submit. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}
