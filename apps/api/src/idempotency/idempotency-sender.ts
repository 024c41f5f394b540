import { SetMetadata } from '@nestjs/common';

export const IDEMPOTENCY_SENDER = 'aftersales:idempotency-sender';

/**
 * For a public route whose caller is a signed sender rather than a token
 * (the integration callbacks): keys are scoped to that sender.
 */
export const IdempotencySender = (sender: string) => SetMetadata(IDEMPOTENCY_SENDER, sender);
