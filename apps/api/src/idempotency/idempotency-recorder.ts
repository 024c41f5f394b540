import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { IDEMPOTENCY_STORE, type IdempotencyStore, type RecordedResponse } from '@aftersales/application';
import { requestContext, type IdempotencyClaim } from '../http/request-context';

/**
 * Response headers a replay must carry again: the document's own (type,
 * ETag, Location) and what a problem tells the client to do. The rest belong
 * to each response (date, correlation id, rate limit).
 */
const REPLAYED_HEADERS = ['content-type', 'etag', 'location', 'retry-after', 'www-authenticate'];

/**
 * Settles the Idempotency-Key a request claimed (IdempotencyGate) with the
 * response it got, whoever produced it: the handler, a pipe or the exception
 * filter. Fastify hooks rather than a Nest interceptor: Nest wraps every
 * request in an interceptor's machinery, while a hook costs a request without
 * a key one lookup.
 */
@Injectable()
export class IdempotencyRecorder implements OnModuleInit {
  private readonly logger = new Logger('Idempotency');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void) => {
      const claim = takeClaim(request);
      if (!claim) {
        done(null, payload);
        return;
      }
      // The response leaves only once it is on record, so a retry the client sends at once is a replay, not a 409.
      this.settle(claim, reply, payload).then(
        () => done(null, payload),
        (error: Error) => done(error),
      );
    });
    // A response that never passed onSend (written to the socket directly)
    // leaves its claim behind: give the key up rather than answer 409 until the lease runs out.
    fastify.addHook('onResponse', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
      const claim = takeClaim(request);
      if (claim) {
        this.store.release(claim.scope, claim.claimId).catch((error: Error) => this.logger.error(`Releasing an idempotency claim failed: ${error.message}`));
      }
      done();
    });
  }

  private async settle({ scope, claimId }: IdempotencyClaim, reply: FastifyReply, payload: unknown): Promise<void> {
    const response = recordableResponse(reply, payload);
    if (response) await this.store.complete(scope, claimId, response);
    else await this.store.release(scope, claimId);
  }
}

function takeClaim(request: FastifyRequest): IdempotencyClaim | undefined {
  const context = requestContext(request.raw);
  const claim = context.idempotencyClaim;
  if (claim) context.idempotencyClaim = undefined;
  return claim;
}

/**
 * The response as the client receives it, or undefined when it is not kept:
 * after a 5xx or 429 a retry runs again, and a body that is not text (a
 * stream or a buffer, none of the API's) is not kept.
 */
export function recordableResponse(reply: FastifyReply, payload: unknown): RecordedResponse | undefined {
  const status = reply.statusCode;
  if (status >= 500 || status === 429) return undefined;
  const headers: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = reply.getHeader(name);
    if (value !== undefined) headers[name] = String(value);
  }
  if (payload === undefined || payload === null || payload === '') return { status, headers, body: undefined };
  if (typeof payload !== 'string') return undefined;
  // Kept as the text that was sent (already serialised), so a replay is the same bytes without parsing it again.
  return { status, headers, body: payload };
}
