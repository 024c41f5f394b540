import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { signatureDigest } from '@aftersales/integrations';

/** One request as the fake received it: the body as the exact bytes sent. */
export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json: unknown;
  receivedAt: number;
}

export type Responder = (request: Received, response: ServerResponse, index: number) => void;

/** Answers 200 `{}` unless told otherwise. */
const answerOk: Responder = (_request, response) => answer(response, 200, {});

export function answer(response: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/html' : 'application/json', ...headers });
  response.end(text);
}

/** A provider or callback receiver on a local port: records every request and answers as `responder` says. */
export class FakeServer {
  readonly received: Received[] = [];
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly server: Server,
    private responder: Responder,
  ) {}

  static async start(responder: Responder = answerOk): Promise<FakeServer> {
    const server = createServer();
    const fake = new FakeServer(server, responder);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks);
        let json: unknown;
        try {
          json = body.length ? JSON.parse(body.toString('utf8')) : undefined;
        } catch {
          json = undefined;
        }
        const received = { method: request.method ?? '', path: request.url ?? '', headers: request.headers, body, json, receivedAt: Date.now() };
        fake.received.push(received);
        fake.responder(received, response, fake.received.length - 1);
        for (const wake of fake.waiters.splice(0)) wake();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  respondWith(responder: Responder): void {
    this.responder = responder;
  }

  /** Resolves once `count` requests have arrived; fails after `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 5000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${count} requests within ${timeoutMs} ms, got ${this.received.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A local port with nothing listening on it: connecting is refused. */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/**
 * Checks an X-Signature the way the API does: `t=<unix>,v1=<hex>` whose digest,
 * recomputed with `signatureDigest` over the received bytes, matches. Returns `t`.
 */
export function verifiedSignature(secret: string, received: Received): number {
  const header = received.headers['x-signature'];
  const match = typeof header === 'string' ? /^t=([0-9]+),v1=([0-9a-f]{64})$/.exec(header) : null;
  if (!match) throw new Error(`malformed X-Signature: ${String(header)}`);
  const t = Number(match[1]);
  const expected = Buffer.from(signatureDigest(secret, t, received.body), 'hex');
  if (!timingSafeEqual(Buffer.from(match[2], 'hex'), expected)) throw new Error('X-Signature does not match the body');
  return t;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
