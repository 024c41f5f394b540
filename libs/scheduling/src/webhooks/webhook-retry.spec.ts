import { DEFAULT_WEBHOOK_RETRY, webhookRetryDelayMs } from './webhook-retry';
import { deliveryIdOf, isSubscribable, SUBSCRIBABLE_EVENT_TYPES } from './webhook-events';
import { webhookJobId } from './webhook-queue';

describe('webhook retries', () => {
  const policy = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 10_000 };

  it('doubles the wait after each failure, up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => webhookRetryDelayMs(policy, n))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('waits at least as long as a Retry-After asks, never past the cap', () => {
    expect(webhookRetryDelayMs(policy, 1, 5000)).toBe(5000);
    expect(webhookRetryDelayMs(policy, 3, 1000)).toBe(4000);
    expect(webhookRetryDelayMs(policy, 1, 3_600_000)).toBe(10_000);
  });

  it('gives up after about eight and a half minutes by default', () => {
    const total = Array.from({ length: DEFAULT_WEBHOOK_RETRY.attempts - 1 }, (_, i) => webhookRetryDelayMs(DEFAULT_WEBHOOK_RETRY, i + 1)).reduce((a, b) => a + b, 0);
    expect(total).toBe(511_000);
  });
});

describe('webhook names', () => {
  it('offers the case events but not the repair pass\'s fence', () => {
    expect(SUBSCRIBABLE_EVENT_TYPES).toEqual(expect.arrayContaining(['ReturnRequested', 'RefundSettled', 'CaseClosed']));
    expect(isSubscribable('RequestAbandoned')).toBe(false);
    expect(isSubscribable('OrderShipped')).toBe(false);
    expect(isSubscribable('WebhookSubscribed')).toBe(false);
  });

  it('names deliveries and their jobs without a colon, one job per attempt and replay round', () => {
    const deliveryId = deliveryIdOf('01890a5d-ac96-774b-bcce-b302099a8057', 42);
    expect(deliveryId).toBe('01890a5d-ac96-774b-bcce-b302099a8057-42');
    const first = webhookJobId({ deliveryId, round: 0, attempts: 0 });
    expect(first).not.toContain(':');
    expect(new Set([first, webhookJobId({ deliveryId, round: 0, attempts: 1 }), webhookJobId({ deliveryId, round: 1, attempts: 0 })]).size).toBe(3);
  });
});
