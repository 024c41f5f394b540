/** A door pickup for a case's return parcel (DOMAIN.md, "Return shipping"). The caseId is the idempotency key. */
export interface PickupRequest {
  caseId: string;
  orderId: string;
  buyerId: string;
}

/** What `PickupScheduled` records: instants are ISO-8601 UTC. */
export interface PickupBooking {
  carrier: string;
  trackingNumber: string;
  windowStart: string;
  windowEnd: string;
}

/**
 * The logistics provider (API.md, "Outbound"). One call is one attempt: it
 * resolves with the booking, or throws ProviderRetryableError or
 * ProviderRejectedError. Booking the same case again gives the same parcel.
 */
export interface Carrier {
  bookPickup(request: PickupRequest): Promise<PickupBooking>;
}

export const CARRIER = Symbol('CARRIER');
