import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { join } from 'node:path';
import request from 'supertest';
import { LocalRedisServer } from '@aftersales/scheduling';
import { createEdgeApp, edgeConfig, gate, handlerRuns, startEnvironment, token, type EdgeEnvironment } from './support/edge-app';

jest.setTimeout(30_000);

const PROBLEM = /^application\/problem\+json/;

describe('HTTP edge', () => {
  let environment: EdgeEnvironment;
  let app: NestFastifyApplication;
  let buyer: string;
  let merchant: string;

  const server = () => app.getHttpServer();

  beforeAll(async () => {
    environment = await startEnvironment();
    app = await createEdgeApp(edgeConfig(environment));
    buyer = await token({ sub: 'u1', role: 'buyer' });
    merchant = await token({ sub: 'm-user', role: 'merchant', merchantId: 'm1' });
  });

  afterAll(async () => {
    await app?.close();
    await environment?.cleanup();
  });

  describe('identity', () => {
    it('accepts a valid token and hands the handler the caller and the correlation id', async () => {
      const response = await request(server())
        .post('/v1/echo')
        .set('Authorization', `Bearer ${buyer}`)
        .set('X-Correlation-Id', 'corr-123')
        .send({ text: 'hello', lines: [{ lineId: 'l1', quantity: 2 }] });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        text: 'hello',
        lines: [{ lineId: 'l1', quantity: 2 }],
        caller: { role: 'buyer', id: 'u1', authorityLimit: 0 },
        correlationId: 'corr-123',
      });
      expect(response.headers['x-correlation-id']).toBe('corr-123');
    });

    it('carries merchantId, businessLine and authorityLimit into the caller', async () => {
      const agent = await token({ sub: 'a1', role: 'agent', businessLine: 'appliances', authorityLimit: 5000 });
      const response = await request(server()).get('/v1/whoami').set('Authorization', `Bearer ${agent}`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ role: 'agent', id: 'a1', businessLine: 'appliances', authorityLimit: 5000 });
      const asMerchant = await request(server()).get('/v1/whoami').set('Authorization', `Bearer ${merchant}`);
      expect(asMerchant.body).toEqual({ role: 'merchant', id: 'm-user', merchantId: 'm1', authorityLimit: 0 });
    });

    const refused: Array<[string, () => Promise<string | undefined>]> = [
      ['no token', async () => undefined],
      ['a malformed token', async () => 'Bearer not-a-jwt'],
      ['another scheme', async () => `Basic ${Buffer.from('u1:pw').toString('base64')}`],
      ['an expired token', async () => `Bearer ${await token({ sub: 'u1', role: 'buyer' }, { expiresIn: Math.floor(Date.now() / 1000) - 60 })}`],
      ['a token without exp', async () => `Bearer ${await token({ sub: 'u1', role: 'buyer' }, { expiresIn: null })}`],
      ['a token signed with another secret', async () => `Bearer ${await token({ sub: 'u1', role: 'buyer' }, { secret: 'x'.repeat(40) })}`],
      ['a wrong issuer', async () => `Bearer ${await token({ sub: 'u1', role: 'buyer' }, { issuer: 'someone-else' })}`],
      ['a wrong audience', async () => `Bearer ${await token({ sub: 'u1', role: 'buyer' }, { audience: 'other-api' })}`],
      ['alg none', async () => `Bearer ${unsigned({ sub: 'u1', role: 'buyer', iss: 'aftersales', aud: 'aftersales-api', exp: 9999999999 })}`],
      ['a token without sub', async () => `Bearer ${await token({ role: 'buyer' })}`],
      ['an unknown role', async () => `Bearer ${await token({ sub: 'u1', role: 'superuser' })}`],
      ['a merchant without merchantId', async () => `Bearer ${await token({ sub: 'm-user', role: 'merchant' })}`],
      ['an agent without businessLine', async () => `Bearer ${await token({ sub: 'a1', role: 'agent' })}`],
      ['a negative authorityLimit', async () => `Bearer ${await token({ sub: 'a1', role: 'agent', businessLine: 'bl', authorityLimit: -1 })}`],
    ];

    it.each(refused)('answers 401 problem+json for %s', async (_name, header) => {
      const value = await header();
      const call = request(server()).post('/v1/echo').send({ text: 'hello' });
      if (value !== undefined) call.set('Authorization', value);
      const response = await call;
      expect(response.status).toBe(401);
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.body).toMatchObject({ type: 'about:blank', title: 'Unauthorized', status: 401 });
      expect(typeof response.body.detail).toBe('string');
    });

    it('answers 403 for a role that never uses the route', async () => {
      const response = await request(server()).post('/v1/echo').set('Authorization', `Bearer ${merchant}`).send({ text: 'hello' });
      expect(response.status).toBe(403);
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.body).toMatchObject({ status: 403, title: 'Forbidden' });
    });

    it('lets public routes through without a token', async () => {
      expect((await request(server()).get('/health')).status).toBe(200);
      expect((await request(server()).get('/metrics')).status).toBe(200);
      expect((await request(server()).get('/docs-json')).status).toBe(200);
      expect((await request(server()).post('/v1/open').send({ text: 'hi' })).body).toEqual({ text: 'hi' });
    });
  });

  describe('the order of checks', () => {
    it('answers 401 before looking at an invalid body', async () => {
      const invalid = await request(server()).post('/v1/echo').send({ text: 42, extra: true });
      expect(invalid.status).toBe(401);
      const malformed = await request(server()).post('/v1/echo').set('Content-Type', 'application/json').send('{"text": ');
      expect(malformed.status).toBe(401);
      const wrongType = await request(server()).post('/v1/echo').set('Content-Type', 'text/plain').send('hello');
      expect(wrongType.status).toBe(401);
    });

    it('answers 403 before looking at an invalid body', async () => {
      const auth = `Bearer ${merchant}`;
      expect((await request(server()).post('/v1/echo').set('Authorization', auth).send({ text: 42 })).status).toBe(403);
      const malformed = await request(server())
        .post('/v1/echo')
        .set('Authorization', auth)
        .set('Content-Type', 'application/json')
        .send('{"__proto__": {"admin": true}}');
      expect(malformed.status).toBe(403);
    });
  });

  it('answers a route guard (a callback signature) before a refused body', async () => {
    const callback = (signature?: string) => {
      const call = request(server()).post('/v1/callback').set('Content-Type', 'application/json');
      if (signature) call.set('X-Signature', signature);
      return call.send('{"text": ');
    };
    expect((await callback()).status).toBe(401);
    expect((await callback('valid')).status).toBe(400);
  });

  describe('validation', () => {
    const post = (body: unknown, contentType = 'application/json') =>
      request(server())
        .post('/v1/echo')
        .set('Authorization', `Bearer ${buyer}`)
        .set('Content-Type', contentType)
        .send(typeof body === 'string' ? body : JSON.stringify(body));

    it('lists every wrong field, nested ones as dotted paths', async () => {
      const response = await post({ text: 42, lines: [{ lineId: 'l1', quantity: 0 }, { lineId: 'bad id', quantity: 'two' }] });
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.body).toMatchObject({ type: 'about:blank', title: 'Bad Request', status: 400 });
      const fields = (response.body.errors as Array<{ field: string }>).map((e) => e.field);
      expect(fields).toEqual(expect.arrayContaining(['text', 'lines.0.quantity', 'lines.1.lineId', 'lines.1.quantity']));
      for (const error of response.body.errors) expect(typeof error.message).toBe('string');
    });

    it('refuses unknown fields by name, also nested', async () => {
      const response = await post({ text: 'x', isAdmin: true, lines: [{ lineId: 'l1', quantity: 1, price: 0 }] });
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual(
        expect.arrayContaining([
          { field: 'isAdmin', message: 'isAdmin is not a known field' },
          { field: 'lines.0.price', message: 'lines.0.price is not a known field' },
        ]),
      );
    });

    it.each([
      ['__proto__ at the top', '{"text":"x","__proto__":{"polluted":true}}', '__proto__'],
      ['constructor nested', '{"text":"x","lines":[{"lineId":"l1","quantity":1,"constructor":{"prototype":{"polluted":true}}}]}', 'lines.0.constructor'],
      ['prototype', '{"text":"x","prototype":{}}', 'prototype'],
    ])('refuses prototype keys: %s', async (_name, raw, field) => {
      const response = await post(raw);
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('refuses a string above its maximum length', async () => {
      const response = await post({ text: 'x'.repeat(200_000) });
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: 'text', message: 'text must be shorter than or equal to 2000 characters' }]);
    });

    it('refuses malformed JSON, deep nesting and non-object bodies with 400', async () => {
      for (const raw of ['{"text": "x"', 'not json', `{"text":"x","lines":${'['.repeat(30)}${']'.repeat(30)}}`, '[{"text":"x"}]', '"x"']) {
        const response = await post(raw);
        expect({ raw: raw.slice(0, 20), status: response.status }).toEqual({ raw: raw.slice(0, 20), status: 400 });
        expect(response.headers['content-type']).toMatch(PROBLEM);
      }
    });

    it('answers 415 for a body that is not JSON and 413 for one above the limit', async () => {
      const text = await post('text=hello', 'application/x-www-form-urlencoded');
      expect(text.status).toBe(415);
      expect(text.headers['content-type']).toMatch(PROBLEM);
      const huge = await post({ text: 'x'.repeat(1_100_000) });
      expect(huge.status).toBe(413);
      expect(huge.headers['content-type']).toMatch(PROBLEM);
      expect(huge.body).toMatchObject({ status: 413, title: 'Payload Too Large' });
    });

    it('takes no body as an empty one', async () => {
      const response = await request(server()).post('/v1/echo').set('Authorization', `Bearer ${buyer}`);
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'text' })]));
    });
  });

  describe('Idempotency-Key', () => {
    const echo = (key: string | undefined, body: unknown, auth = buyer) => {
      const call = request(server()).post('/v1/echo').set('Authorization', `Bearer ${auth}`);
      if (key !== undefined) call.set('Idempotency-Key', key);
      return call.send(body as object);
    };

    it('replays the first response for the same key and body, running the handler once', async () => {
      const before = handlerRuns.echo;
      const first = await echo('key-replay-1', { text: 'once' });
      const second = await echo('key-replay-1', { text: 'once' });
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      expect(handlerRuns.echo).toBe(before + 1);
    });

    it('answers 422 idempotency_key_reused for the same key with another body', async () => {
      await echo('key-reuse-1', { text: 'first' });
      const response = await echo('key-reuse-1', { text: 'second' });
      expect(response.status).toBe(422);
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.body).toMatchObject({ status: 422, rule: 'idempotency_key_reused' });
    });

    it('scopes keys to the caller', async () => {
      const other = await token({ sub: 'u2', role: 'buyer' });
      const before = handlerRuns.echo;
      await echo('key-scope-1', { text: 'mine' });
      const theirs = await echo('key-scope-1', { text: 'theirs' }, other);
      expect(theirs.status).toBe(200);
      expect(theirs.body.caller.id).toBe('u2');
      expect(handlerRuns.echo).toBe(before + 2);
    });

    it('replays the status and headers the handler chose', async () => {
      const put = () =>
        request(server()).put('/v1/things/t1').set('Authorization', `Bearer ${buyer}`).set('Idempotency-Key', 'key-put-1').send({ text: 'snap' });
      const first = await put();
      const second = await put();
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.headers.etag).toBe(first.headers.etag);
      expect(second.body).toEqual(first.body);
    });

    it('records client errors and replays them; a validation failure too', async () => {
      const before = handlerRuns.conflict;
      const refuse = () =>
        request(server()).post('/v1/refuse').set('Authorization', `Bearer ${buyer}`).set('Idempotency-Key', 'key-409').send({ text: 'approve' });
      const first = await refuse();
      const second = await refuse();
      expect(first.status).toBe(409);
      expect(first.body).toMatchObject({ title: 'Action not allowed', allowedActions: ['withdraw', 'urge'] });
      expect(second.status).toBe(409);
      expect(second.headers['content-type']).toMatch(PROBLEM);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.body).toEqual(first.body);
      expect(handlerRuns.conflict).toBe(before + 1);

      const invalid = await echo('key-invalid', { text: 1 });
      const again = await echo('key-invalid', { text: 1 });
      expect(invalid.status).toBe(400);
      expect(again.status).toBe(400);
      expect(again.headers['idempotent-replayed']).toBe('true');
    });

    it('answers 409 while the first request with the key still runs', async () => {
      const held = () =>
        request(server()).post('/v1/held').set('Authorization', `Bearer ${buyer}`).set('Idempotency-Key', 'key-held').send({ text: 'wait' });
      const before = handlerRuns.held;
      gate.close();
      // A supertest request starts only when awaited or then-ed.
      const first = held().then((response) => response);
      await until(() => handlerRuns.held === before + 1);
      const second = await held();
      expect(second.status).toBe(409);
      expect(second.headers['content-type']).toMatch(PROBLEM);
      gate.open();
      expect((await first).status).toBe(200);
      const third = await held();
      expect(third.status).toBe(200);
      expect(third.headers['idempotent-replayed']).toBe('true');
      expect(handlerRuns.held).toBe(before + 1);
    });

    it('refuses a key that is not 1-255 visible ASCII characters', async () => {
      for (const key of ['has space', 'x'.repeat(256), 'naïve']) {
        const response = await echo(key, { text: 'x' });
        expect(response.status).toBe(400);
        expect(response.body.errors).toEqual([expect.objectContaining({ field: 'Idempotency-Key' })]);
      }
    });

    it('records nothing for a body the parser refused', async () => {
      const malformed = await request(server())
        .post('/v1/echo')
        .set('Authorization', `Bearer ${buyer}`)
        .set('Idempotency-Key', 'key-malformed')
        .set('Content-Type', 'application/json')
        .send('{"text": "fixed"');
      expect(malformed.status).toBe(400);
      const fixed = await echo('key-malformed', { text: 'fixed' });
      expect(fixed.status).toBe(200);
      expect(fixed.headers['idempotent-replayed']).toBeUndefined();
    });

    it("scopes a signed callback's key to its sender", async () => {
      const before = handlerRuns.callback;
      const deliver = () =>
        request(server()).post('/v1/callback').set('X-Signature', 'valid').set('Idempotency-Key', 'evt-1').send({ text: 'delivered' });
      const first = await deliver();
      const second = await deliver();
      expect(first.status).toBe(200);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.body).toEqual(first.body);
      expect(handlerRuns.callback).toBe(before + 1);
    });

    it('checks the key after authentication', async () => {
      const response = await request(server()).post('/v1/echo').set('Idempotency-Key', 'has space').send({ text: 'x' });
      expect(response.status).toBe(401);
    });
  });

  describe('errors', () => {
    it('answers an unknown route with 404 problem+json', async () => {
      const response = await request(server()).get('/v1/nowhere').set('X-Correlation-Id', 'lost-1');
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.body).toMatchObject({ type: 'about:blank', title: 'Not Found', status: 404 });
      expect(response.headers['x-correlation-id']).toBe('lost-1');
    });

    it('answers an unexpected error with a generic 500 and no internals', async () => {
      const response = await request(server()).get('/v1/boom').set('Authorization', `Bearer ${buyer}`);
      expect(response.status).toBe(500);
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.body).toEqual({ type: 'about:blank', title: 'Internal Server Error', status: 500, detail: expect.any(String) });
      expect(response.text).not.toContain('hunter2');
      expect(response.text).not.toMatch(/at .*\.ts/);
    });

    it('generates a correlation id when none (or a bad one) is given', async () => {
      const none = await request(server()).get('/health');
      expect(none.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
      const bad = await request(server()).get('/health').set('X-Correlation-Id', 'has spaces and <html>');
      expect(bad.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('operations', () => {
    it('serves Prometheus metrics with requests counted by route pattern', async () => {
      await request(server()).put('/v1/things/abc-123').set('Authorization', `Bearer ${buyer}`).send({ text: 'm' });
      const response = await request(server()).get('/metrics');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      expect(response.text).toMatch(/http_requests_total\{method="POST",route="\/v1\/echo",status="200"\} \d+/);
      expect(response.text).toMatch(/http_requests_total\{method="PUT",route="\/v1\/things\/:id",status="\d+"\}/);
      expect(response.text).not.toContain('abc-123');
      expect(response.text).toContain('http_request_duration_seconds_bucket');
      expect(response.text).toContain('process_cpu_user_seconds_total');
      expect(response.text).toMatch(/route="unmatched",status="404"/);
    });

    it('documents bearer auth, problem+json and Idempotency-Key', async () => {
      const document = (await request(server()).get('/docs-json')).body;
      expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(document.components.schemas.Problem.required).toEqual(['type', 'title', 'status', 'detail']);
      const echo = document.paths['/v1/echo'].post;
      expect(echo.security).toEqual([{ bearer: [] }]);
      expect(echo.parameters).toEqual(expect.arrayContaining([{ $ref: '#/components/parameters/IdempotencyKey' }]));
      expect(echo.responses['401'].content['application/problem+json'].schema.$ref).toBe('#/components/schemas/Problem');
      expect(document.paths['/health'].get.security).toEqual([]);
    });
  });

  it('keeps idempotency records across a restart on the same file', async () => {
    const before = handlerRuns.echo;
    const first = await request(server()).post('/v1/echo').set('Authorization', `Bearer ${buyer}`).set('Idempotency-Key', 'key-restart').send({ text: 'durable' });
    await app.close();
    app = await createEdgeApp(edgeConfig(environment));
    const second = await request(server()).post('/v1/echo').set('Authorization', `Bearer ${buyer}`).set('Idempotency-Key', 'key-restart').send({ text: 'durable' });
    expect(second.status).toBe(first.status);
    expect(second.body).toEqual(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(handlerRuns.echo).toBe(before + 1);
  });
});

describe('rate limiting', () => {
  let environment: EdgeEnvironment;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    environment = await startEnvironment();
    app = await createEdgeApp(edgeConfig(environment, { RATE_LIMIT_PER_MINUTE: '3' }));
  });

  afterAll(async () => {
    await app?.close();
    await environment?.cleanup();
  });

  it('answers 429 problem+json with Retry-After above the limit, per caller', async () => {
    const first = await token({ sub: 'limited-1', role: 'buyer' });
    const second = await token({ sub: 'limited-2', role: 'buyer' });
    const whoami = (auth: string) => request(app.getHttpServer()).get('/v1/whoami').set('Authorization', `Bearer ${auth}`);
    for (let i = 0; i < 3; i += 1) {
      const allowed = await whoami(first);
      expect(allowed.status).toBe(200);
      expect(allowed.headers).toMatchObject({ 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': String(2 - i) });
      expect(Number(allowed.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
    }
    const limited = await whoami(first);
    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toMatch(PROBLEM);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body).toMatchObject({ type: 'about:blank', title: 'Too Many Requests', status: 429 });
    expect((await whoami(second)).status).toBe(200);
  });

  it('limits callers without a token by IP, and never /health', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await request(app.getHttpServer()).get('/metrics')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    for (let i = 0; i < 6; i += 1) expect((await request(app.getHttpServer()).get('/health')).status).toBe(200);
  });
});

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A JWT with `alg: none` and no signature. */
function unsigned(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
}

describe('health without Redis', () => {
  let environment: EdgeEnvironment;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    environment = await startEnvironment();
    app = await createEdgeApp(edgeConfig(environment));
  });

  afterAll(async () => {
    await app?.close();
    await environment?.cleanup();
  });

  it('answers 503 problem+json naming the dependency that did not answer', async () => {
    expect((await request(app.getHttpServer()).get('/health')).status).toBe(200);
    await environment.redis.stop();
    const response = await request(app.getHttpServer()).get('/health');
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toMatch(PROBLEM);
    expect(response.body).toMatchObject({
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      detail: expect.stringContaining('redis'),
      checks: { eventStore: { status: 'up' }, redis: { status: 'down' } },
    });
    // Back on the same port, so the Redis client reconnects and the application can close cleanly.
    environment.redis = await LocalRedisServer.start({ dir: join(environment.dataDir, 'redis'), port: Number(new URL(environment.redis.url).port), persistent: false });
    await until(async () => (await request(app.getHttpServer()).get('/health')).status === 200, 10_000);
  });
});
