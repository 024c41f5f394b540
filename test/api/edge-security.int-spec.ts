import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEdgeApp, edgeConfig, startEnvironment, token, type EdgeEnvironment } from './support/edge-app';

jest.setTimeout(30_000);

const PROBLEM = /^application\/problem\+json/;
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

// What the edge does for an operator's deployment: who may scrape /metrics,
// which client IP a request behind a load balancer is counted under, and
// what a caller hears while the token issuer's keys cannot be fetched.
describe('HTTP edge security settings', () => {
  let environment: EdgeEnvironment;
  const apps: NestFastifyApplication[] = [];

  beforeAll(async () => {
    environment = await startEnvironment();
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await environment?.cleanup();
  });

  async function start(env: Record<string, string>): Promise<FastifyInstance> {
    const app = await createEdgeApp(edgeConfig(environment, env));
    apps.push(app);
    return app.getHttpAdapter().getInstance() as FastifyInstance;
  }

  describe('/metrics', () => {
    it('answers callers on this machine and refuses others when METRICS_TOKEN is not set', async () => {
      const fastify = await start({});
      expect((await fastify.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
      const remote = await fastify.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.9', headers: { 'x-forwarded-for': '127.0.0.1' } });
      expect(remote.statusCode).toBe(403);
      expect(remote.headers['content-type']).toMatch(PROBLEM);
      expect(remote.json().detail).toMatch(/METRICS_TOKEN/);
    });

    it('answers only the bearer of METRICS_TOKEN when it is set, wherever the caller is', async () => {
      const fastify = await start({ METRICS_TOKEN });
      const scrape = (remoteAddress: string, authorization?: string) =>
        fastify.inject({ method: 'GET', url: '/metrics', remoteAddress, headers: authorization ? { authorization } : {} });
      expect((await scrape('203.0.113.9', `Bearer ${METRICS_TOKEN}`)).statusCode).toBe(200);
      expect((await scrape('203.0.113.9', `Bearer ${METRICS_TOKEN}`)).body).toMatch(/# TYPE/);
      for (const refused of [await scrape('127.0.0.1'), await scrape('203.0.113.9', 'Bearer wrong-token-0123456789'), await scrape('203.0.113.9', `Basic ${METRICS_TOKEN}`)]) {
        expect(refused.statusCode).toBe(401);
        expect(refused.headers['content-type']).toMatch(PROBLEM);
      }
    });
  });

  describe('the rate limit of callers without a token behind a load balancer', () => {
    const fromBalancer = (fastify: FastifyInstance, client: string) =>
      fastify.inject({ method: 'POST', url: '/v1/echo', remoteAddress: '10.0.0.7', headers: { 'x-forwarded-for': client, 'content-type': 'application/json' }, payload: '{}' });

    it('counts each client of a trusted proxy (TRUST_PROXY) under its own IP', async () => {
      const fastify = await start({ TRUST_PROXY: '10.0.0.0/8', RATE_LIMIT_PER_MINUTE: '2' });
      expect((await fromBalancer(fastify, '198.51.100.1')).statusCode).toBe(401);
      expect((await fromBalancer(fastify, '198.51.100.1')).statusCode).toBe(401);
      expect((await fromBalancer(fastify, '198.51.100.1')).statusCode).toBe(429);
      expect((await fromBalancer(fastify, '198.51.100.2')).statusCode).toBe(401);
    });

    it('ignores X-Forwarded-For from anyone not trusted, so it cannot pick a bucket', async () => {
      const fastify = await start({ RATE_LIMIT_PER_MINUTE: '2' });
      expect((await fromBalancer(fastify, '198.51.100.1')).statusCode).toBe(401);
      expect((await fromBalancer(fastify, '198.51.100.2')).statusCode).toBe(401);
      expect((await fromBalancer(fastify, '198.51.100.3')).statusCode).toBe(429);
    });
  });

  it('answers 503 problem+json while the JWKS cannot be reached, and 401 for a bad token still', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const fastify = await start({ AUTH_JWT_ALGORITHM: 'ES256', AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json` });

    const { SignJWT, generateKeyPair } = await import('jose');
    const { privateKey } = await generateKeyPair('ES256');
    const signed = await new SignJWT({ role: 'buyer' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setSubject('u1')
      .setIssuer('aftersales')
      .setAudience('aftersales-api')
      .setExpirationTime('5m')
      .sign(privateKey);
    const response = await fastify.inject({ method: 'POST', url: '/v1/echo', headers: { authorization: `Bearer ${signed}`, 'content-type': 'application/json' }, payload: '{"text":"hi"}' });
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toMatch(PROBLEM);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.json()).toMatchObject({ status: 503, title: 'Service Unavailable' });

    // A token signed with the wrong algorithm is refused before any key is fetched.
    const hs = await token({ sub: 'u1', role: 'buyer' });
    expect((await fastify.inject({ method: 'POST', url: '/v1/echo', headers: { authorization: `Bearer ${hs}` } })).statusCode).toBe(401);
  });
});
