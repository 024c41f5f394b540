import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { createRemoteJWKSet, errors, importSPKI, jwtVerify, type JWTVerifyGetKey, type KeyLike } from 'jose';
import type { AppConfig } from '@aftersales/config';
import { APP_CONFIG } from '@aftersales/application';
import { callerFromClaims, type Caller } from './caller';

/** A token the edge does not accept; the message is safe to show the client. */
export class TokenRejectedError extends Error {
  override readonly name = 'TokenRejectedError';
}

/** The token could not be checked because the JWKS cannot be fetched now: the service's fault, not the caller's (503). */
export class TokenVerificationUnavailableError extends Error {
  override readonly name = 'TokenVerificationUnavailableError';
}

/** Seconds of clock difference tolerated between the issuer and this service. */
const CLOCK_TOLERANCE_SECONDS = 5;

type VerificationKey = KeyLike | Uint8Array | JWTVerifyGetKey;

/** Verified tokens remembered per process: clients send the same token with every request. */
const VERIFIED_TOKENS_KEPT = 10_000;

/**
 * Verifies bearer tokens with the one algorithm the configuration pins
 * (HS256 secret, or an RS256/ES256 public key or JWKS): `none` and any other
 * algorithm are refused by jose's `algorithms` allow-list.
 */
@Injectable()
export class TokenVerifier implements OnModuleInit {
  private readonly logger = new Logger(TokenVerifier.name);
  private key?: Promise<VerificationKey>;
  /** Token → caller and expiry; only tokens whose signature and claims passed go in. */
  private readonly verified = new Map<string, { caller: Caller; expiresAtMs: number }>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Loads the key while the service starts, so a bad PEM stops the start instead of failing every request. */
  async onModuleInit(): Promise<void> {
    await this.verificationKey();
  }

  async verify(token: string): Promise<Caller> {
    const known = this.verified.get(token);
    // Expiry is checked on every use, with the same tolerance jose applies.
    if (known && Date.now() < known.expiresAtMs + CLOCK_TOLERANCE_SECONDS * 1000) return known.caller;
    if (known) this.verified.delete(token);
    const { algorithm, issuer, audience } = this.config.auth;
    let claims: Record<string, unknown>;
    try {
      const key = await this.verificationKey();
      const options = { algorithms: [algorithm], issuer, audience, requiredClaims: ['exp', 'sub'], clockTolerance: CLOCK_TOLERANCE_SECONDS };
      const verified =
        typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
      claims = verified.payload as Record<string, unknown>;
    } catch (error) {
      if (this.keySourceFailed(error)) {
        this.logger.warn(`The JWKS cannot be fetched: ${(error as Error)?.message ?? String(error)}`);
        throw new TokenVerificationUnavailableError('The token issuer\'s keys cannot be fetched right now; retry shortly.');
      }
      throw new TokenRejectedError(this.reason(error));
    }
    const caller = callerFromClaims(claims);
    if ('refused' in caller) throw new TokenRejectedError(`The token is not accepted: ${caller.refused}.`);
    if (this.verified.size >= VERIFIED_TOKENS_KEPT) this.verified.clear();
    this.verified.set(token, { caller, expiresAtMs: Number(claims.exp) * 1000 });
    return caller;
  }

  private verificationKey(): Promise<VerificationKey> {
    this.key ??= this.loadKey();
    return this.key;
  }

  private async loadKey(): Promise<VerificationKey> {
    const { algorithm, secret, publicKey, jwksUrl } = this.config.auth;
    if (algorithm === 'HS256') {
      if (!secret) throw new Error('AUTH_JWT_SECRET is required for HS256');
      return new TextEncoder().encode(secret);
    }
    if (publicKey) {
      try {
        return await importSPKI(publicKey.replace(/\\n/g, '\n'), algorithm);
      } catch (error) {
        throw new Error(`AUTH_JWT_PUBLIC_KEY is not a ${algorithm} public key in PEM (SPKI) form: ${(error as Error).message}`);
      }
    }
    if (jwksUrl) return createRemoteJWKSet(new URL(jwksUrl));
    throw new Error(`AUTH_JWT_PUBLIC_KEY or AUTH_JWKS_URL is required for ${algorithm}`);
  }

  /** A JWKS that times out, cannot be reached, or answers other than a key set: no verdict on the token. */
  private keySourceFailed(error: unknown): boolean {
    if (!this.config.auth.jwksUrl || this.config.auth.publicKey) return false;
    if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return true;
    // jose's own fetch reports a non-200 answer or a body that is not JSON with a generic error.
    if (error instanceof errors.JOSEError) return error.code === 'ERR_JOSE_GENERIC' && /JSON Web Key Set/.test(error.message);
    // Anything else thrown while fetching (ECONNREFUSED, DNS) is the network, not the token.
    return true;
  }

  private reason(error: unknown): string {
    if (error instanceof errors.JWTExpired) return 'The token has expired.';
    if (error instanceof errors.JWTClaimValidationFailed) return `The token is not accepted: ${error.message}.`;
    if (error instanceof errors.JOSEAlgNotAllowed) return `The token must be signed with ${this.config.auth.algorithm}.`;
    if (error instanceof errors.JWSSignatureVerificationFailed) return 'The token signature is not valid.';
    if (error instanceof errors.JWKSNoMatchingKey) return 'No key matches the token.';
    if (error instanceof errors.JOSEError) return 'The token is malformed.';
    // A JWKS endpoint that cannot be reached still means the token was not verified.
    this.logger.warn(`Token verification failed unexpectedly: ${(error as Error)?.message ?? String(error)}`);
    return 'The token could not be verified.';
  }
}
