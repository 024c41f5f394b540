import type { FastifyReply } from 'fastify';
import type { RecordedResponse } from '@aftersales/application';

export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

/**
 * Thrown by the edge guard when a key's response is on record: the request
 * stops before validation and the handler, and the exception filter sends
 * the recorded response instead of a problem.
 */
export class IdempotentReplay extends Error {
  constructor(readonly response: RecordedResponse) {
    super('Replaying the response recorded for this Idempotency-Key');
  }
}

/** The recorded status, headers and body again, marked as a replay. */
export function sendReplay(reply: FastifyReply, { status, headers, body }: RecordedResponse): void {
  reply.status(status).headers(headers).header(IDEMPOTENT_REPLAYED_HEADER, 'true').send(body);
}
