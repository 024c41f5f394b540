import type { OnApplicationShutdown } from '@nestjs/common';
import { iso } from '@aftersales/domain';
import { ProviderRetryableError } from '../provider-errors';
import { SandboxCallbacks, type SandboxCallbacksOptions } from '../sandbox/sandbox-callbacks';
import { digitsFrom } from '../sandbox/sandbox-reference';
import type { Carrier, PickupBooking, PickupRequest } from './carrier';

export const LOGISTICS_CALLBACK_PATH = 'v1/integrations/logistics/events';
export const SANDBOX_CARRIER = 'sandbox-express';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export interface SandboxCarrierOptions extends SandboxCallbacksOptions {
  /**
   * When set, the parcel reports its own progress as a carrier would: signed
   * `collected` this long after the booking and `delivered` after twice as
   * long. Unset (the default), nothing arrives unless someone sends the scans.
   */
  progressAfterMs?: number;
}

/** `SBX` and 12 digits from the case: a retried booking names the same parcel. */
export const sandboxTrackingNumber = (caseId: string): string => `SBX${digitsFrom(caseId, 12)}`;

/**
 * The embedded carrier (API.md, "Outbound"): books every pickup at once for
 * the next day, 09:00–18:00 UTC, under a tracking number derived from the
 * case, so booking a case twice books one parcel.
 */
export class SandboxCarrier implements OnApplicationShutdown, Carrier {
  private readonly callbacks: SandboxCallbacks;
  private readonly now: () => Date;
  /** Parcels whose progress is still to be reported. */
  private readonly reporting = new Set<string>();

  constructor(private readonly options: SandboxCarrierOptions) {
    this.callbacks = new SandboxCallbacks(options);
    this.now = options.now ?? (() => new Date());
  }

  async bookPickup(request: PickupRequest): Promise<PickupBooking> {
    if (this.callbacks.closed) throw new ProviderRetryableError('logistics', 'the sandbox carrier is shut down');
    const trackingNumber = sandboxTrackingNumber(request.caseId);
    const nextDay = Math.floor(this.now().getTime() / DAY_MS) * DAY_MS + DAY_MS;
    const booking = { carrier: SANDBOX_CARRIER, trackingNumber, windowStart: iso(nextDay + 9 * HOUR_MS), windowEnd: iso(nextDay + 18 * HOUR_MS) };
    const after = this.options.progressAfterMs;
    if (after !== undefined && !this.reporting.has(trackingNumber)) this.reportProgress(trackingNumber, after);
    return booking;
  }

  /** Cancels every pending callback; later submissions are refused as retryable. */
  close(): Promise<void> {
    return this.callbacks.close();
  }

  /** Last in Nest's shutdown, so jobs finishing in onModuleDestroy can still submit. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  /**
   * `collected` `afterMs` after the booking, `delivered` at twice that, in that
   * order; a 404 is retried, as the booking may not be recorded yet.
   */
  private reportProgress(trackingNumber: string, afterMs: number): void {
    this.reporting.add(trackingNumber);
    const bookedAt = Date.now();
    const scan = (event: 'collected' | 'delivered') =>
      this.callbacks.deliver(LOGISTICS_CALLBACK_PATH, { trackingNumber, event, at: iso(this.now()) }, { retryNotFound: true });
    this.callbacks.later(afterMs, async () => {
      try {
        if ((await scan('collected')) === 'closed') return;
        if (!(await this.callbacks.wait(Math.max(0, bookedAt + 2 * afterMs - Date.now())))) return;
        await scan('delivered');
      } finally {
        this.reporting.delete(trackingNumber);
      }
    });
  }
}
