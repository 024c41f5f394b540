import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CommandOrigin } from '@aftersales/application';
import type { Actor, Channel } from '@aftersales/domain';
import type { Caller, Role } from '../auth/caller';
import { correlationIdOf } from '../http/correlation';
import { requestContext } from '../http/request-context';
import { problems } from '../problem/problem';

/**
 * The channel an event records when the request does not name one: buyers
 * act in the app, agents in their console, integrations through the API,
 * and merchants, arbitrators and admins through the web back office.
 * `POST /v1/cases` may name its own channel (a buyer on the phone, say).
 */
export const CHANNEL_OF_ROLE: Readonly<Record<Role, Channel>> = {
  buyer: 'app',
  agent: 'agent',
  integration: 'api',
  merchant: 'web',
  arbitrator: 'web',
  admin: 'web',
};

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** Who acts through this request, as the domain and the event metadata need it. */
export interface ActingCaller {
  caller: Caller;
  /** The domain's actor: role, id and what scopes the role. */
  actor: Actor;
  origin: CommandOrigin;
  reply: FastifyReply;
}

export function actorOf(caller: Caller): Actor {
  return {
    role: caller.role,
    id: caller.id,
    ...(caller.merchantId !== undefined ? { merchantId: caller.merchantId } : {}),
    ...(caller.businessLine !== undefined ? { businessLine: caller.businessLine } : {}),
    authorityLimit: caller.authorityLimit,
  };
}

/** Handler parameter: the verified caller as actor and command origin, and the reply for headers. */
export const Acting = createParamDecorator((_data: unknown, context: ExecutionContext): ActingCaller => {
  const http = context.switchToHttp();
  const request = http.getRequest<FastifyRequest>();
  const caller = requestContext(request.raw).caller;
  if (!caller) throw new Error('@Acting() used on a route without an authenticated caller');
  // The edge guard has refused a malformed key already; a key is recorded only when well formed.
  const key = request.headers['idempotency-key'];
  const origin: CommandOrigin = {
    actor: { role: caller.role, id: caller.id },
    channel: CHANNEL_OF_ROLE[caller.role],
    correlationId: correlationIdOf(request.raw),
    ...(typeof key === 'string' && IDEMPOTENCY_KEY.test(key) ? { idempotencyKey: key } : {}),
  };
  return { caller, actor: actorOf(caller), origin, reply: http.getResponse<FastifyReply>() };
});

const IF_MATCH = /^(?:"(\d{1,15})"|(\d{1,15}))$/;

/** `If-Match: "<revision>"` (or the bare integer) → the revision; absent → undefined; anything else → 400. */
export function parseIfMatch(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const match = typeof header === 'string' ? IF_MATCH.exec(header.trim()) : null;
  const revision = match ? Number(match[1] ?? match[2]) : Number.NaN;
  if (!Number.isSafeInteger(revision)) {
    throw problems.validation([{ field: 'If-Match', message: 'If-Match must be a case revision: "<revision>" (quoted or bare non-negative integer)' }]);
  }
  return revision;
}

/** Handler parameter: the `If-Match` revision of a case command, if any. */
export const IfMatch = createParamDecorator((_data: unknown, context: ExecutionContext): number | undefined =>
  parseIfMatch(context.switchToHttp().getRequest<FastifyRequest>().headers['if-match']),
);

/** The strong entity tag of a case revision. */
export const etagOf = (revision: number): string => `"${revision}"`;
