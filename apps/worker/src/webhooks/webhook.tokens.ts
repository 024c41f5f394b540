/** The WebhookQueue over the `webhooks` BullMQ queue. */
export const WEBHOOK_QUEUE_SERVICE = Symbol('WEBHOOK_QUEUE_SERVICE');
/** The WebhookRetryPolicy deliveries follow. */
export const WEBHOOK_RETRY_POLICY = Symbol('WEBHOOK_RETRY_POLICY');
