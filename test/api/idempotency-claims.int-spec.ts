import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fs from 'node:fs';
import { request as httpRequest, type ClientRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createEdgeApp, edgeConfig, gate, handlerRuns, startEnvironment, token, type EdgeEnvironment } from './support/edge-app';

jest.setTimeout(30_000);

/** How an Idempotency-Key claim ends when the request does not end the usual way. */
describe('Idempotency-Key claims', () => {
  let environment: EdgeEnvironment;
  let app: NestFastifyApplication;
  let buyer: string;
  let port: number;

  beforeAll(async () => {
    environment = await startEnvironment();
    app = await createEdgeApp(edgeConfig(environment));
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
    buyer = await token({ sub: 'u1', role: 'buyer' });
  });

  afterAll(async () => {
    await app?.close();
    await environment?.cleanup();
  });

  const post = (path: string, key: string, body: unknown) =>
    request(app.getHttpServer()).post(path).set('Authorization', `Bearer ${buyer}`).set('Idempotency-Key', key).send(body as object);

  it('keeps the claim of a request the client gave up on while it ran, and records its response', async () => {
    const before = handlerRuns.held;
    gate.close();
    const abandoned = sendAndAbandon(port, '/v1/held', buyer, 'key-abandoned', { text: 'wait' });
    await until(() => handlerRuns.held === before + 1);
    abandoned.destroy();
    await new Promise((resolve) => abandoned.once('close', resolve));

    // Still running: a retry must not run the command a second time beside it.
    const meanwhile = await post('/v1/held', 'key-abandoned', { text: 'wait' });
    expect(meanwhile.status).toBe(409);

    gate.open();
    let retry = await post('/v1/held', 'key-abandoned', { text: 'wait' });
    for (const deadline = Date.now() + 5000; retry.status === 409 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      retry = await post('/v1/held', 'key-abandoned', { text: 'wait' });
    }
    expect(retry.status).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual({ text: 'wait', done: true });
    expect(handlerRuns.held).toBe(before + 1);
  });

  it('gives up the claim of a response written past Fastify, so a retry runs instead of waiting for the lease', async () => {
    const before = handlerRuns.unsent;
    const first = await post('/v1/unsent', 'key-unsent', { text: 'raw' });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ text: 'raw' });

    let retry = await post('/v1/unsent', 'key-unsent', { text: 'raw' });
    // The claim is given up once the first response has finished, which may be just after the client has it.
    for (const deadline = Date.now() + 2000; retry.status === 409 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      retry = await post('/v1/unsent', 'key-unsent', { text: 'raw' });
    }
    expect(retry.status).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(handlerRuns.unsent).toBe(before + 2);
  });

  it('sends the answer without waiting for its record\'s fsync, which is asked for behind it', async () => {
    // Every fsync is held until the test lets it run; the claim alone must not need one.
    const held: Array<() => void> = [];
    const realFsync = fs.fsync;
    const fsyncs = jest.spyOn(fs, 'fsync').mockImplementation(((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      held.push(() => realFsync(fd, callback));
    }) as typeof fs.fsync);
    try {
      const before = handlerRuns.echo;
      let answered = false;
      const answer = post('/v1/echo', 'key-durable', { text: 'durable' }).then((response) => {
        answered = true;
        return response;
      });
      // The key is durable with the events the request appends (in their metadata); the record is a cache of the answer.
      const response = await answer;
      expect(answered).toBe(true);
      expect(handlerRuns.echo).toBe(before + 1);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ text: 'durable' });
      await until(() => held.length > 0);
    } finally {
      fsyncs.mockRestore();
      for (const release of held.splice(0)) release();
    }
  });

  it('replays a response byte for byte, with its content type', async () => {
    const first = await post('/v1/echo', 'key-bytes', { text: 'same', lines: [{ lineId: 'l1', quantity: 1 }] });
    const second = await post('/v1/echo', 'key-bytes', { text: 'same', lines: [{ lineId: 'l1', quantity: 1 }] });
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.text).toBe(first.text);
    expect(second.headers['content-type']).toBe(first.headers['content-type']);
  });
});

/** Sends a request over a socket of its own, to be destroyed before the answer comes. */
function sendAndAbandon(port: number, path: string, bearer: string, key: string, body: unknown): ClientRequest {
  const call = httpRequest({
    host: '127.0.0.1',
    port,
    path,
    method: 'POST',
    agent: false,
    headers: { authorization: `Bearer ${bearer}`, 'idempotency-key': key, 'content-type': 'application/json' },
  });
  call.on('error', () => undefined);
  call.end(JSON.stringify(body));
  return call;
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
