import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signatureDigest } from '@aftersales/integrations';

export interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: { eventId: string; type: string; caseId: string; position: number; occurredAt: string; data: unknown };
  at: number;
}

/** How the receiver answers one request: a status (and optional headers). */
export type Answer = (received: Received, index: number) => { status: number; headers?: Record<string, string> };

/**
 * A webhook receiver on 127.0.0.1: keeps every request it got, in arrival
 * order, and answers as the test says (200 by default).
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  answer: Answer = () => ({ status: 200 });

  private constructor(private readonly server: Server) {}

  static async start(): Promise<WebhookReceiver> {
    let receiver!: WebhookReceiver;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const received: Received = { headers: request.headers, raw, body: JSON.parse(raw), at: Date.now() };
        receiver.received.push(received);
        const { status, headers } = receiver.answer(received, receiver.received.length - 1);
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(status < 300 ? '{"ok":true}' : '{"error":"receiver says no"}');
      });
    });
    receiver = new WebhookReceiver(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  /** Requests that carried this webhook's id. */
  of(webhookId: string): Received[] {
    return this.received.filter((r) => r.headers['x-webhook-id'] === webhookId);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Whether X-Signature is `t=<s>,v1=<hex>` over this exact body under `secret`, as the integration callbacks are signed. */
export function signedWith(secret: string, received: Received): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(received.headers['x-signature'] ?? ''));
  if (!match) return false;
  return signatureDigest(secret, Number(match[1]), received.raw) === match[2] && Math.abs(Number(match[1]) - Date.now() / 1000) < 300;
}

export async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
