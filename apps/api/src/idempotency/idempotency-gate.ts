import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { IDEMPOTENCY_STORE, type IdempotencyScope, type IdempotencyStore } from '@aftersales/application';
import { requestContext } from '../http/request-context';
import { problems } from '../problem/problem';
import { IdempotentReplay } from './idempotent-replay';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** 1-255 visible ASCII characters (API.md). */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * `Idempotency-Key` on POST/PUT (API.md), the edge guard's last step: after
 * authentication, rate limit, role, route checks and a refused body, before
 * validation and the handler. The first request with a key claims it and
 * runs; IdempotencyRecorder keeps its response (unless 5xx or 429) when it
 * is sent. The same key and body again is answered with that response
 * (IdempotentReplay) without running anything; another body gets 422; while
 * the first still runs, 409.
 */
@Injectable()
export class IdempotencyGate {
  constructor(@Inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore) {}

  /** `sender`: the route's signed sender, the principal of a public route. */
  async claim(request: FastifyRequest, sender: string | undefined): Promise<void> {
    if (!METHODS.has(request.method)) return;
    const key = request.headers[IDEMPOTENCY_KEY_HEADER];
    if (key === undefined) return;
    if (typeof key !== 'string' || !KEY_PATTERN.test(key)) {
      throw problems.validation([{ field: 'Idempotency-Key', message: 'Idempotency-Key must be 1-255 visible ASCII characters' }]);
    }

    const state = requestContext(request.raw);
    // The actor is role and id together, so a key never crosses from one actor to another.
    const principal = state.caller ? `${state.caller.role}:${state.caller.id}` : sender ? `sender:${sender}` : undefined;
    if (!principal) return;

    const scope: IdempotencyScope = { principal, method: request.method, path: request.url.split('?', 1)[0], key };
    const requestHash = createHash('sha256').update(state.rawBody ?? Buffer.alloc(0)).digest('hex');
    const claim = await this.store.begin(scope, requestHash);

    switch (claim.outcome) {
      case 'started':
        state.idempotencyClaim = { scope, claimId: claim.claimId, resourceId: claim.resourceId };
        return;
      case 'replay':
        throw new IdempotentReplay(claim.response);
      case 'mismatch':
        throw problems.businessRule('idempotency_key_reused', 'This Idempotency-Key was already used with a different body on this route.');
      case 'in_progress':
        throw problems.conflict('A request with this Idempotency-Key is still being processed; retry shortly.', {}, { 'Retry-After': '1' });
    }
  }
}
