import { Agent, request } from 'node:http';

export interface Answer {
  status: number;
  /** The parsed JSON body ({} when empty or not JSON). */
  json: Record<string, unknown>;
  /** From the request's start to the last byte of the answer, in ms. */
  ms: number;
  /** When the answer was complete (Date.now()). */
  at: number;
}

/**
 * A keep-alive HTTP/1.1 client for many concurrent callers: node:http rather
 * than fetch, so the load generator spends as little of the shared CPU as it
 * can on each request.
 */
export class BenchClient {
  private readonly agent: Agent;
  private readonly url: URL;

  /** `timeoutMs`: a request with no answer by then fails, so a stuck service ends the run rather than hanging it. */
  constructor(
    baseUrl: string,
    sockets: number,
    private readonly timeoutMs = 120_000,
  ) {
    this.url = new URL(baseUrl);
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  /** One request; `body` is sent as JSON. Rejects only on a transport error. */
  send(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Answer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          method,
          path,
          headers: payload === undefined ? headers : { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const ms = performance.now() - started;
            const text = Buffer.concat(chunks).toString('utf8');
            let json: Record<string, unknown> = {};
            try {
              json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
            } catch {
              json = { text: text.slice(0, 300) };
            }
            resolve({ status: res.statusCode ?? 0, json, ms, at: Date.now() });
          });
        },
      );
      req.on('error', reject);
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${this.timeoutMs} ms`)));
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
