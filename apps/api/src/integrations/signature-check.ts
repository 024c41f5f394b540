import { applyDecorators, Inject, Injectable } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { ACCEPTED_SIGNATURES, APP_CONFIG, Clock, SIGNATURE_TOLERANCE_MS, type AcceptedSignatureStore } from '@aftersales/application';
import type { AppConfig } from '@aftersales/config';
import { signatureDigest } from '@aftersales/integrations';
import { RouteChecks, type RouteCheck } from '../auth/route-check';
import { requestContext } from '../http/request-context';
import { ProblemException } from '../problem/problem';

export const SIGNATURE_HEADER = 'x-signature';
const HEX_DIGEST = /^[0-9a-f]{64}$/;
const UNIX_SECONDS = /^[0-9]{1,12}$/;

export interface ParsedSignature {
  timestamp: number;
  digests: string[];
}

/**
 * `t=<unix seconds>,v1=<hex>`; several `v1` are allowed so a sender can sign
 * with an old and a new secret while the secret rotates.
 */
export function parseSignatureHeader(header: unknown): ParsedSignature | undefined {
  if (typeof header !== 'string' || header.length > 1024) return undefined;
  let timestamp: number | undefined;
  const digests: string[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator < 0) return undefined;
    const name = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (name === 't') {
      if (timestamp !== undefined || !UNIX_SECONDS.test(value)) return undefined;
      timestamp = Number(value);
    } else if (name === 'v1') {
      if (!HEX_DIGEST.test(value.toLowerCase())) return undefined;
      digests.push(value.toLowerCase());
    }
    // Other schemes are ignored, so a sender can add one before this side knows it.
  }
  return timestamp === undefined || digests.length === 0 ? undefined : { timestamp, digests };
}

const refused = (detail: string): ProblemException =>
  new ProblemException(401, 'Unauthorized', detail, {}, { headers: { 'WWW-Authenticate': 'Signature header="X-Signature"' } });

/**
 * Authenticates a signed integration callback (API.md): the HMAC over the
 * body bytes as received, a timestamp within 5 minutes of now, and a
 * signature never accepted before. A route check (see RouteChecks), so it
 * runs inside the edge guard after the role check and before a refused body
 * or the body's validation: 401 wins over 400.
 */
@Injectable()
export class SignatureCheck implements RouteCheck {
  private readonly secret: string;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(ACCEPTED_SIGNATURES) private readonly accepted: AcceptedSignatureStore,
    private readonly clock: Clock,
  ) {
    this.secret = config.integrations.webhookSecret;
  }

  async check(request: FastifyRequest): Promise<void> {
    const parsed = parseSignatureHeader(request.headers[SIGNATURE_HEADER]);
    if (!parsed) throw refused('X-Signature is missing or malformed; expected t=<unix seconds>,v1=<hex HMAC-SHA256>.');

    const now = this.clock.now().getTime();
    if (Math.abs(now - parsed.timestamp * 1000) > SIGNATURE_TOLERANCE_MS) {
      throw refused('The X-Signature timestamp is more than 5 minutes from now.');
    }

    const body = requestContext(request.raw).rawBody ?? Buffer.alloc(0);
    const expected = Buffer.from(signatureDigest(this.secret, parsed.timestamp, body), 'hex');
    const matched = parsed.digests.find((digest) => timingSafeEqual(Buffer.from(digest, 'hex'), expected));
    if (!matched) throw refused('The X-Signature does not match the body.');

    // Recorded before the handler runs: two deliveries of one signature race here, and only one wins.
    if (!(await this.accepted.accept(matched, now))) throw refused('This X-Signature was accepted once already.');
  }
}

/** The route is a signed callback: the signature check, and the header in the OpenAPI document. */
export const SignedCallback = () =>
  applyDecorators(
    RouteChecks(SignatureCheck),
    ApiHeader({
      name: 'X-Signature',
      required: true,
      description:
        '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` under INTEGRATION_WEBHOOK_SECRET, over the body bytes as sent. ' +
        'A timestamp more than 5 minutes from now, or a signature accepted once already, is refused (401).',
      schema: { type: 'string', example: 't=1740816000,v1=5f0c…' },
    }),
  );
