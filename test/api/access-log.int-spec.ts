import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createRootLogger } from '@aftersales/application';
import { CapturedLines } from '../support/captured-lines';
import { createEdgeApp, edgeConfig, startEnvironment, token, type EdgeEnvironment } from './support/edge-app';

jest.setTimeout(30_000);

describe('logging', () => {
  let environment: EdgeEnvironment;
  let app: NestFastifyApplication;
  let output: CapturedLines;

  const accessLines = () => output.lines.filter((line) => line.msg === 'request completed');
  const accessLineOf = async (correlationId: string): Promise<Record<string, unknown>> => {
    // Written once the response has finished, which may be just after the client has it.
    const deadline = Date.now() + 2000;
    for (;;) {
      const line = accessLines().find((candidate) => candidate.correlationId === correlationId);
      if (line) return line;
      if (Date.now() > deadline) throw new Error(`no access line for ${correlationId}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  beforeAll(async () => {
    environment = await startEnvironment();
    output = new CapturedLines();
    app = await createEdgeApp(edgeConfig(environment), { rootLogger: createRootLogger('info', output) });
  });

  afterAll(async () => {
    await app?.close();
    await environment?.cleanup();
  });

  it("writes Nest's own messages as JSON lines with a context", () => {
    expect(output.lines).toEqual(
      expect.arrayContaining([expect.objectContaining({ level: 30, context: 'RouterExplorer', msg: expect.stringContaining('/v1/echo, POST') })]),
    );
  });

  it('writes one access line per request with the caller, and never the token', async () => {
    const buyer = await token({ sub: 'u1', role: 'buyer' });
    const response = await request(app.getHttpServer())
      .post('/v1/echo?from=test')
      .set('Authorization', `Bearer ${buyer}`)
      .set('X-Correlation-Id', 'access-1')
      .send({ text: 'hello' });
    expect(response.status).toBe(200);

    const line = await accessLineOf('access-1');
    expect(line).toEqual({
      level: 30,
      time: expect.any(Number),
      pid: process.pid,
      hostname: expect.any(String),
      correlationId: 'access-1',
      method: 'POST',
      url: '/v1/echo?from=test',
      statusCode: 200,
      responseTime: expect.any(Number),
      caller: { role: 'buyer', id: 'u1' },
      msg: 'request completed',
    });
    expect(line.responseTime).toBeGreaterThan(0);
    expect(accessLines().filter((candidate) => candidate.correlationId === 'access-1')).toHaveLength(1);
    expect(output.raw()).not.toContain(buyer);
  });

  it('logs a refused request without a caller, and neither its token nor a signature', async () => {
    const stranger = await token({ sub: 'u1', role: 'buyer' }, { secret: 'x'.repeat(40) });
    const refused = await request(app.getHttpServer())
      .get('/v1/whoami')
      .set('Authorization', `Bearer ${stranger}`)
      .set('X-Correlation-Id', 'access-401');
    expect(refused.status).toBe(401);
    const signed = await request(app.getHttpServer())
      .post('/v1/callback')
      .set('X-Signature', 'valid')
      .set('X-Correlation-Id', 'access-signed')
      .send({ text: 'delivered' });
    expect(signed.status).toBe(200);

    const line = await accessLineOf('access-401');
    expect(line).toMatchObject({ method: 'GET', url: '/v1/whoami', statusCode: 401 });
    expect(line).not.toHaveProperty('caller');
    await accessLineOf('access-signed');
    expect(output.raw()).not.toContain(stranger);
    expect(output.raw()).not.toMatch(/x-signature|"valid"/i);
  });

  it('leaves /health out', async () => {
    expect((await request(app.getHttpServer()).get('/health').set('X-Correlation-Id', 'access-health')).status).toBe(200);
    await request(app.getHttpServer()).get('/metrics').set('X-Correlation-Id', 'access-metrics');
    await accessLineOf('access-metrics');
    expect(accessLines().some((line) => line.url === '/health')).toBe(false);
  });
});

describe('logging at warn', () => {
  let environment: EdgeEnvironment;
  let app: NestFastifyApplication;
  const output = new CapturedLines();

  beforeAll(async () => {
    environment = await startEnvironment();
    app = await createEdgeApp(edgeConfig(environment), { rootLogger: createRootLogger('warn', output) });
  });

  afterAll(async () => {
    await app?.close();
    await environment?.cleanup();
  });

  it('writes no access lines and no info messages', async () => {
    const buyer = await token({ sub: 'u1', role: 'buyer' });
    expect((await request(app.getHttpServer()).post('/v1/echo').set('Authorization', `Bearer ${buyer}`).send({ text: 'quiet' })).status).toBe(200);
    expect((await request(app.getHttpServer()).get('/v1/nowhere')).status).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(output.lines.filter((line) => (line.level as number) < 40)).toEqual([]);
  });
});
