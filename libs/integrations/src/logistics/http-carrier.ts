import { canonicalInstant, instant } from '@aftersales/domain';
import { answerObject, DEFAULT_PROVIDER_TIMEOUT_MS, postSigned, unreadable, type ProviderAnswer } from '../http/signed-request';
import type { Carrier, PickupBooking, PickupRequest } from './carrier';

export interface HttpCarrierOptions {
  /** The carrier's pickup booking endpoint (LOGISTICS_URL). */
  url: string;
  /** INTEGRATION_WEBHOOK_SECRET: requests are signed as the callbacks are. */
  secret: string;
  timeoutMs?: number;
  now?: () => Date;
}

/**
 * A tracking number the logistics callbacks can carry back: the API takes the
 * same id characters there (letters, digits, `_`, `-`, at most 64).
 */
const TRACKING_NUMBER = /^[A-Za-z0-9_-]{1,64}$/;
const CARRIER_NAME_MAX = 64;
/** An instant with its date, time and zone spelled out: Date.parse alone would also take "March 7". */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const isoInstant = (value: unknown): string | undefined =>
  typeof value === 'string' && ISO_INSTANT.test(value) ? canonicalInstant(value) : undefined;

/**
 * Books a pickup with a real carrier: a signed POST with the caseId as
 * Idempotency-Key; the 2xx answer must give `carrier`, `trackingNumber`,
 * `windowStart` and `windowEnd`. An answer without them is retried rather
 * than refused: the carrier may have booked the parcel, and the same caseId
 * gets its stored answer on the next attempt.
 */
export class HttpCarrier implements Carrier {
  private readonly timeoutMs: number;
  private readonly now: () => Date;

  constructor(private readonly options: HttpCarrierOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS;
    this.now = options.now ?? (() => new Date());
  }

  async bookPickup(request: PickupRequest): Promise<PickupBooking> {
    const answer = await postSigned({
      provider: 'logistics',
      url: this.options.url,
      secret: this.options.secret,
      idempotencyKey: request.caseId,
      body: { caseId: request.caseId, orderId: request.orderId, buyerId: request.buyerId },
      timeoutMs: this.timeoutMs,
      now: this.now,
    });
    return readBooking(answer);
  }
}

function readBooking(answer: ProviderAnswer): PickupBooking {
  const body = answerObject('logistics', answer, false);
  const { carrier, trackingNumber, windowStart, windowEnd } = body;
  if (typeof carrier !== 'string' || carrier.trim() === '' || carrier.length > CARRIER_NAME_MAX) {
    throw unreadable('logistics', answer, 'no usable carrier');
  }
  if (typeof trackingNumber !== 'string' || !TRACKING_NUMBER.test(trackingNumber)) {
    throw unreadable('logistics', answer, 'no usable trackingNumber');
  }
  const start = isoInstant(windowStart);
  const end = isoInstant(windowEnd);
  if (start === undefined || end === undefined) throw unreadable('logistics', answer, 'a pickup window that is not two ISO-8601 instants');
  if (instant(end)! <= instant(start)!) throw unreadable('logistics', answer, 'a pickup window that ends before it starts');
  return { carrier, trackingNumber, windowStart: start, windowEnd: end };
}
