import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendWebhook, type WebhookSend } from '../../apps/worker/src/webhooks/webhook-sender';

// One signed send against a local HTTP server: how each kind of answer (or
// none) is classified, and that the secret is in no error.

const SECRET = 'whsec-sender-0123456789';

describe('sendWebhook', () => {
  let server: Server;
  let handler: (respond: (status: number, headers?: Record<string, string>, body?: string) => void) => void;
  let url: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () =>
        handler((status, headers = {}, body = '') => {
          response.writeHead(status, headers);
          response.end(body);
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const send = (overrides: Partial<WebhookSend> = {}) =>
    sendWebhook({ url, secret: SECRET, webhookId: 'w1', eventId: 'e1', body: '{"eventId":"e1"}', now: new Date(), ...overrides });

  it('2xx is accepted', async () => {
    handler = (respond) => respond(204);
    expect(await send()).toEqual({ kind: 'accepted', status: 204 });
  });

  it('5xx and 429 are retried, with the receiver\'s Retry-After', async () => {
    handler = (respond) => respond(503, {}, 'down for maintenance');
    expect(await send()).toEqual({ kind: 'failed', retryable: true, error: 'answered 503: down for maintenance' });
    handler = (respond) => respond(429, { 'retry-after': '7' });
    expect(await send()).toMatchObject({ kind: 'failed', retryable: true, retryAfterMs: 7000 });
  });

  it('another 4xx and a redirect are refusals', async () => {
    handler = (respond) => respond(401, {}, 'bad signature');
    expect(await send()).toEqual({ kind: 'failed', retryable: false, error: 'answered 401: bad signature' });
    handler = (respond) => respond(301, { location: 'https://elsewhere.example.com/' });
    expect(await send()).toMatchObject({ kind: 'failed', retryable: false, error: 'answered 301' });
  });

  it('no answer in time, or nobody listening, is retried', async () => {
    handler = () => undefined;
    const slow = await send({ timeoutMs: 200 });
    expect(slow).toEqual({ kind: 'failed', retryable: true, error: 'no answer: nothing within 200 ms' });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await send({ url: `http://127.0.0.1:${port}/hooks` });
    expect(refused).toMatchObject({ kind: 'failed', retryable: true, error: expect.stringContaining('ECONNREFUSED') });
    expect(JSON.stringify([slow, refused])).not.toContain(SECRET);
  });

  it('keeps only the start of a long answer', async () => {
    handler = (respond) => respond(500, {}, 'x'.repeat(100_000));
    const outcome = await send();
    expect(outcome.kind === 'failed' && outcome.error.length).toBeLessThanOrEqual(320);
  });
});
