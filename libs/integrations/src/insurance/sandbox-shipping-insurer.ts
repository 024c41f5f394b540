import type { InsuranceClaim, ShippingInsurer } from './shipping-insurer';

/** The embedded insurer: every claim is accepted at once, and it keeps no state, so a repeated claim is accepted again. */
export class SandboxShippingInsurer implements ShippingInsurer {
  async claim(_claim: InsuranceClaim): Promise<{ accepted: true }> {
    return { accepted: true };
  }
}
