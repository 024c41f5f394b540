import type { IncomingMessage } from 'node:http';
import type { Caller } from '../auth/caller';
import type { ProblemException } from '../problem/problem';

/**
 * What the edge learns about one request before a handler runs. Kept beside
 * the raw Node request rather than on Fastify's request object, so what sees
 * only the raw request (Fastify's genReqId) and Fastify's parsers and hooks,
 * guards, interceptors and handlers all reach the same state.
 */
export interface RequestContext {
  correlationId?: string;
  /** The verified bearer token's caller; absent on public routes. */
  caller?: Caller;
  /** The body bytes as received, for idempotency hashes and callback signatures. */
  rawBody?: Buffer;
  /**
   * A body the parser refused (malformed JSON, forbidden key, wrong media
   * type). Thrown only after every guard, so 401 and 403 win over 400 as
   * API.md orders them.
   */
  deferredBodyError?: ProblemException;
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
