import type { IncomingMessage } from 'node:http';
import type { IdempotencyScope } from '@aftersales/application';
import type { Caller } from '../auth/caller';
import type { ProblemException } from '../problem/problem';

/**
 * What the edge learns about one request before a handler runs. Kept beside
 * the raw Node request rather than on Fastify's request object, so what sees
 * only the raw request (Fastify's genReqId) and Fastify's parsers and hooks,
 * guards, the exception filter and handlers all reach the same state.
 */
export interface RequestContext {
  correlationId?: string;
  /** The verified bearer token's caller; absent on public routes. */
  caller?: Caller;
  /** The body bytes as received, for idempotency hashes and callback signatures. */
  rawBody?: Buffer;
  /**
   * A body the parser refused (malformed JSON, forbidden key, wrong media
   * type). Thrown by the edge guard only after authentication, role and
   * route checks, so 401 and 403 win over 400 as API.md orders them.
   */
  deferredBodyError?: ProblemException;
  /** The Idempotency-Key this request holds until its response is recorded. */
  idempotencyClaim?: IdempotencyClaim;
}

export interface IdempotencyClaim {
  scope: IdempotencyScope;
  claimId: string;
  /** The id a creating request names its resource with: the same for every attempt of one keyed request. */
  resourceId: string;
}

const contexts = new WeakMap<IncomingMessage, RequestContext>();

export function requestContext(raw: IncomingMessage): RequestContext {
  let context = contexts.get(raw);
  if (!context) {
    context = {};
    contexts.set(raw, context);
  }
  return context;
}
