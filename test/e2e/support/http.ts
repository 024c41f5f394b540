/** What a client sees of one response. `body` is parsed JSON when the response says JSON, else the text. */
export interface ApiResponse<T = any> {
  status: number;
  headers: Record<string, string>;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is (hostile or non-JSON bodies); `contentType` defaults to application/json. */
  raw?: string | Uint8Array;
  contentType?: string | null;
  headers?: Record<string, string>;
  idempotencyKey?: string;
  ifMatch?: string;
}

/** A small HTTP client for the running service: no retries, no redirects, nothing hidden. */
export class ApiClient {
  constructor(readonly baseUrl: string) {}

  async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch;
    let payload: string | Uint8Array | undefined;
    if (options.raw !== undefined) payload = options.raw;
    else if (options.body !== undefined) payload = JSON.stringify(options.body);
    if (payload !== undefined && options.contentType !== null) headers['content-type'] = options.contentType ?? 'application/json';

    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body: payload, redirect: 'manual' });
    const text = await response.text();
    const responseHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => (responseHeaders[name] = value));
    const type = responseHeaders['content-type'] ?? '';
    let body: unknown = text;
    if (/json/.test(type) && text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { status: response.status, headers: responseHeaders, body: body as T, text };
  }

  get<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>('GET', path, options);
  }

  post<T = any>(path: string, body?: unknown, options: RequestOptions = {}) {
    return this.request<T>('POST', path, { ...options, body });
  }

  put<T = any>(path: string, body?: unknown, options: RequestOptions = {}) {
    return this.request<T>('PUT', path, { ...options, body });
  }
}

/** Renders a response for a failed expectation, so a report names what the service said. */
export function describeResponse(response: ApiResponse): string {
  return `${response.status} ${response.text.slice(0, 600)}`;
}
