// The identity provider is an in-process HTTP server publishing a JWKS, as a real one would.
import { SignJWT, exportJWK, generateKeyPair, type KeyLike } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '@aftersales/config';
import { TokenRejectedError, TokenVerificationUnavailableError, TokenVerifier } from './token-verifier';

describe('TokenVerifier with a JWKS URL', () => {
  let server: Server;
  let privateKey: KeyLike;
  let verifier: TokenVerifier;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'ES256', use: 'sig' };
    server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    verifier = new TokenVerifier(loadConfig({ AUTH_JWT_ALGORITHM: 'ES256', AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json` }));
    await verifier.onModuleInit();
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const sign = (key: KeyLike, kid = 'key-1') =>
    new SignJWT({ role: 'arbitrator', businessLine: 'bl1' })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setSubject('arb-1')
      .setIssuer('aftersales')
      .setAudience('aftersales-api')
      .setExpirationTime('5m')
      .sign(key);

  it('verifies a token signed by a key the JWKS publishes', async () => {
    await expect(verifier.verify(await sign(privateKey))).resolves.toEqual({ role: 'arbitrator', id: 'arb-1', businessLine: 'bl1', authorityLimit: 0 });
  });

  it('refuses a token whose key the JWKS does not publish', async () => {
    const stranger = await generateKeyPair('ES256');
    await expect(verifier.verify(await sign(stranger.privateKey, 'key-2'))).rejects.toBeInstanceOf(TokenRejectedError);
    await expect(verifier.verify(await sign(stranger.privateKey))).rejects.toThrow(/signature/);
  });
});

describe('TokenVerifier with a JWKS that cannot be fetched', () => {
  const token = async () => {
    const { privateKey } = await generateKeyPair('ES256');
    return new SignJWT({ role: 'buyer' })
      .setProtectedHeader({ alg: 'ES256', kid: 'key-1' })
      .setSubject('u1')
      .setIssuer('aftersales')
      .setAudience('aftersales-api')
      .setExpirationTime('5m')
      .sign(privateKey);
  };

  async function verifierFor(url: string): Promise<TokenVerifier> {
    const verifier = new TokenVerifier(loadConfig({ AUTH_JWT_ALGORITHM: 'ES256', AUTH_JWKS_URL: url }));
    await verifier.onModuleInit();
    return verifier;
  }

  it('reports an unreachable JWKS as unavailable, not as a refused token', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const verifier = await verifierFor(`http://127.0.0.1:${port}/jwks.json`);
    await expect(verifier.verify(await token())).rejects.toBeInstanceOf(TokenVerificationUnavailableError);
  });

  it('reports a JWKS answering 500 or not JSON as unavailable', async () => {
    for (const [status, body] of [[500, 'down'], [200, 'not json']] as const) {
      const server = createServer((_request, response) => response.writeHead(status).end(body));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const verifier = await verifierFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`);
        await expect(verifier.verify(await token())).rejects.toBeInstanceOf(TokenVerificationUnavailableError);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }
  });
});
