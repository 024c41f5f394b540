import { Inject, Injectable, SetMetadata, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { defer, from, lastValueFrom, of, type Observable } from 'rxjs';
import { IDEMPOTENCY_STORE, type IdempotencyScope, type IdempotencyStore, type RecordedResponse } from '@aftersales/application';
import { requestContext } from '../http/request-context';
import { PROBLEM_CONTENT_TYPE, problems, toProblem } from '../problem/problem';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';
/** 1-255 visible ASCII characters (API.md). */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const METHODS = new Set(['POST', 'PUT', 'PATCH']);
/** Response headers a replay must carry again; the rest are per response (date, correlation, rate limit). */
const REPLAYED_HEADERS = ['content-type', 'etag', 'location'];
const IDEMPOTENCY_SENDER = 'aftersales:idempotency-sender';

/**
 * For a public route whose caller is a signed sender rather than a token
 * (the integration callbacks): keys are scoped to that sender.
 */
export const IdempotencySender = (sender: string) => SetMetadata(IDEMPOTENCY_SENDER, sender);

/**
 * `Idempotency-Key` on POST/PUT (API.md): runs after the edge guard
 * (authentication, rate limit, role) and before validation and the handler.
 * The first request with a key runs and its response is recorded (unless
 * 5xx or 429); the same key and body again gets that response without
 * running anything; another body gets 422; while the first still runs, 409.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    @Inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore,
    private readonly reflector: Reflector,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (!METHODS.has(request.method)) return next.handle();

    const key = request.headers[IDEMPOTENCY_KEY_HEADER];
    if (key === undefined) return next.handle();
    if (typeof key !== 'string' || !KEY_PATTERN.test(key)) {
      throw problems.validation([{ field: 'Idempotency-Key', message: 'Idempotency-Key must be 1-255 visible ASCII characters' }]);
    }

    const state = requestContext(request.raw);
    const sender = this.reflector.getAllAndOverride<string | undefined>(IDEMPOTENCY_SENDER, [context.getHandler(), context.getClass()]);
    // The actor is role and id together, so a key never crosses from one actor to another.
    const principal = state.caller ? `${state.caller.role}:${state.caller.id}` : sender ? `sender:${sender}` : undefined;
    if (!principal) return next.handle();

    const scope: IdempotencyScope = { principal, method: request.method, path: request.url.split('?', 1)[0], key };
    const requestHash = createHash('sha256').update(state.rawBody ?? Buffer.alloc(0)).digest('hex');
    const claim = await this.store.begin(scope, requestHash);

    switch (claim.outcome) {
      case 'replay': {
        const { status, headers, body } = claim.response;
        reply.status(status).headers(headers).header(IDEMPOTENT_REPLAYED_HEADER, 'true');
        return of(body);
      }
      case 'mismatch':
        throw problems.businessRule(
          'idempotency_key_reused',
          'This Idempotency-Key was already used with a different body on this route.',
        );
      case 'in_progress':
        throw problems.conflict('A request with this Idempotency-Key is still being processed; retry shortly.', {}, { 'Retry-After': '1' });
      case 'started':
        return defer(() => from(this.runAndRecord(scope, claim.claimId, next, reply)));
    }
  }

  private async runAndRecord(scope: IdempotencyScope, claimId: string, next: CallHandler, reply: FastifyReply): Promise<unknown> {
    let body: unknown;
    try {
      body = await lastValueFrom(next.handle(), { defaultValue: undefined });
    } catch (error) {
      const problem = toProblem(error);
      if (problem.status >= 500 || problem.status === 429) {
        await this.store.release(scope, claimId);
      } else {
        await this.store.complete(scope, claimId, {
          status: problem.status,
          headers: { ...lowerCased(problem.headers), 'content-type': PROBLEM_CONTENT_TYPE },
          body: problem.body,
        });
      }
      throw error;
    }
    const response: RecordedResponse = { status: reply.statusCode, headers: replayedHeaders(reply), body: toJson(body) };
    if (response.status >= 500 || response.status === 429) await this.store.release(scope, claimId);
    else await this.store.complete(scope, claimId, response);
    return body;
  }
}

function replayedHeaders(reply: FastifyReply): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = reply.getHeader(name);
    if (value !== undefined) headers[name] = String(value);
  }
  return headers;
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

/** The body as the client received it (JSON), so a replay is the same document. */
function toJson(body: unknown): unknown {
  return body === undefined ? undefined : JSON.parse(JSON.stringify(body));
}
