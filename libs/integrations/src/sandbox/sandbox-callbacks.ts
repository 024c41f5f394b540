import { Logger } from '@nestjs/common';
import http from 'node:http';
import https from 'node:https';
import { networkFailure } from '../http/network-failure';
import { signatureHeaderAt, unixSeconds } from '../signature';

export interface SandboxCallbacksOptions {
  /** SANDBOX_CALLBACK_URL: this service's own API. */
  baseUrl: string;
  /** INTEGRATION_WEBHOOK_SECRET, as a real provider would sign with it. */
  secret: string;
  now?: () => Date;
  /** Tries per callback, the first included. */
  attempts?: number;
  /** The wait before the first retry; each next one doubles it. */
  retryDelayMs?: number;
  /** How long one POST may take. */
  timeoutMs?: number;
}

export type DeliveryOutcome = 'delivered' | 'refused' | 'gave_up' | 'closed';

export interface DeliveryOptions {
  /**
   * Retry a 404 as well: a carrier can scan a parcel before the booking that
   * names it has been recorded, while a refund is always recorded before it is
   * submitted.
   */
  retryNotFound?: boolean;
}

const RETRYABLE_STATUSES = new Set([408, 425, 429]);
/** How much of a refusal's body goes into the log line. */
const PROBLEM_CHARS = 300;

/**
 * How the sandbox providers answer, as a real provider does: a signed POST to
 * this service's callback routes, later. Timers are unref'd (a pending
 * settlement never keeps a process alive) and `close()` cancels every one,
 * including retries and POSTs in flight.
 */
export class SandboxCallbacks {
  private readonly logger = new Logger('SandboxCallbacks');
  private readonly now: () => Date;
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private readonly timeoutMs: number;
  /** Each pending wait and how to end it early. */
  private readonly waits = new Map<NodeJS.Timeout, () => void>();
  private readonly running = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  /**
   * Kept-alive connections to the API. node:http rather than fetch: every
   * approval brings one callback, and fetch's per-request machinery (web
   * streams, two abort signals and a timer) cost the worker's thread more
   * than the rest of the delivery.
   */
  private readonly agent: http.Agent;

  constructor(private readonly options: SandboxCallbacksOptions) {
    this.now = options.now ?? (() => new Date());
    this.attempts = Math.max(1, options.attempts ?? 5);
    this.retryDelayMs = options.retryDelayMs ?? 500;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    const secure = new URL(options.baseUrl).protocol === 'https:';
    this.agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  }

  get closed(): boolean {
    return this.stop.signal.aborted;
  }

  /** Runs `task` after `delayMs` unless closed first. Its failure is logged, never thrown. */
  later(delayMs: number, task: () => Promise<unknown>): void {
    if (this.closed) return;
    const run = (async () => {
      if (!(await this.wait(delayMs))) return;
      await task();
    })().catch((error: unknown) => this.logger.error(`a sandbox callback task failed: ${String(error)}`));
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  /**
   * POSTs `body` to `path` under the base URL, signed anew on each try (the API
   * accepts a signature once, so a retry's timestamp is always a later second).
   * Network failures, 408, 425, 429 and 5xx are retried with a doubling wait;
   * after the last try it is logged and given up: the worker's reconciliation
   * submits again whatever never settled.
   */
  async deliver(path: string, body: unknown, options: DeliveryOptions = {}): Promise<DeliveryOutcome> {
    // Relative to the base URL's path, so a service mounted under a prefix gets its callbacks there.
    const base = this.options.baseUrl.endsWith('/') ? this.options.baseUrl : `${this.options.baseUrl}/`;
    const url = new URL(path.replace(/^\/+/, ''), base);
    const bytes = Buffer.from(JSON.stringify(body), 'utf8');
    let lastT = 0;
    let lastProblem = '';
    for (let attempt = 1; attempt <= this.attempts; attempt += 1) {
      if (attempt > 1 && !(await this.wait(this.retryDelayMs * 2 ** (attempt - 2)))) return 'closed';
      if (this.closed) return 'closed';
      lastT = Math.max(unixSeconds(this.now()), lastT + 1);
      let status: number;
      try {
        const response = await this.post(url, bytes, signatureHeaderAt(this.options.secret, bytes, lastT));
        status = response.status;
        lastProblem = `${status} ${response.text}`;
      } catch (error) {
        if (this.closed) return 'closed';
        lastProblem = networkFailure(error, this.timeoutMs);
        continue;
      }
      if (status >= 200 && status < 300) return 'delivered';
      const retry = status >= 500 || RETRYABLE_STATUSES.has(status) || (status === 404 && options.retryNotFound === true);
      if (!retry) {
        this.logger.warn(`sandbox callback to ${path} was refused: ${lastProblem}`);
        return 'refused';
      }
    }
    this.logger.warn(`sandbox callback to ${path} gave up after ${this.attempts} tries: ${lastProblem}`);
    return 'gave_up';
  }

  /** Cancels every pending callback and retry, aborts POSTs in flight, and waits for them to end. */
  async close(): Promise<void> {
    this.stop.abort();
    for (const [timer, end] of this.waits) {
      clearTimeout(timer);
      end();
    }
    this.waits.clear();
    await Promise.allSettled([...this.running]);
    this.agent.destroy();
  }

  /**
   * One signed POST: its status and the start of its body. Rejects on a
   * network failure, after `timeoutMs` without a whole answer (a
   * `TimeoutError`), or when closed (an `AbortError`).
   */
  private post(url: URL, bytes: Buffer, signature: string): Promise<{ status: number; text: string }> {
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = client.request(url, {
        method: 'POST',
        agent: this.agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': bytes.length, 'X-Signature': signature },
        signal: this.stop.signal,
      });
      const timer = setTimeout(() => {
        request.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { name: 'TimeoutError' }));
      }, this.timeoutMs);
      timer.unref();
      const fail = (error: Error): void => {
        clearTimeout(timer);
        reject(error);
      };
      request.on('error', fail);
      request.on('response', (response) => {
        // Read to the end, so the connection is free for the next callback.
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (text.length < PROBLEM_CHARS) text += chunk;
        });
        response.on('error', fail);
        response.on('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, text: text.slice(0, PROBLEM_CHARS) });
        });
      });
      request.end(bytes);
    });
  }

  /** Resolves true after `ms`, or false at once when closed meanwhile. */
  wait(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waits.delete(timer);
        resolve(!this.closed);
      }, ms);
      timer.unref();
      this.waits.set(timer, () => resolve(false));
    });
  }
}
