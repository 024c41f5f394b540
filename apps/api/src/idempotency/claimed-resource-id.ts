import type { FastifyReply } from 'fastify';
import { requestContext } from '../http/request-context';

/** The resource id this request's Idempotency-Key claim drew (IdempotencyGate), if it holds a claim. */
export function claimedResourceId(reply: FastifyReply): string | undefined {
  return requestContext(reply.request.raw).idempotencyClaim?.resourceId;
}
