import { describeResponse, type ApiClient, type ApiResponse, type RequestOptions } from './http';
import { buildOrder, hoursAgo, uniqueId, type OrderSnapshot, type OrderSpec } from './orders';
import { tokens } from './tokens';

export type OrderProgress = 'placed' | 'shipped' | 'delivered';

export interface RegisteredOrder {
  orderId: string;
  snapshot: OrderSnapshot;
}

export interface CaseRequest {
  orderId: string;
  kind: string;
  reason: string;
  lines: Array<{ lineId: string; quantity: number }>;
  description?: string;
  requestedAmount?: number;
  evidence?: string[];
  channel?: string;
  pickup?: boolean;
}

export interface StoreSnapshot {
  events: unknown[];
  orderRevision: number;
  ledger: unknown;
}

/**
 * Drives the running service the way the platform's systems and users do:
 * the order system registers and advances orders, people act on cases. Every
 * step that a test takes for granted fails loudly with the service's answer.
 */
export class Platform {
  private readonly signed = new Map<string, Promise<string>>();

  constructor(readonly api: ApiClient) {}

  private memo(key: string, sign: () => Promise<string>): Promise<string> {
    let token = this.signed.get(key);
    if (!token) this.signed.set(key, (token = sign()));
    return token;
  }

  buyer = (sub: string) => this.memo(`buyer:${sub}`, () => tokens.buyer(sub));
  merchant = (merchantId: string) => this.memo(`merchant:${merchantId}`, () => tokens.merchant(merchantId));
  agent = (sub: string, businessLine: string, authorityLimit?: number) =>
    this.memo(`agent:${sub}:${businessLine}:${authorityLimit}`, () => tokens.agent(sub, businessLine, authorityLimit));
  arbitrator = (sub: string, businessLine: string) => this.memo(`arb:${sub}:${businessLine}`, () => tokens.arbitrator(sub, businessLine));
  admin = () => this.memo('admin', () => tokens.admin());
  integration = () => this.memo('integration', () => tokens.integration());

  /** Registers an order and advances it as far as asked; delivered an hour ago unless told otherwise. */
  async order(spec: OrderSpec, progress: OrderProgress = 'delivered', times: { shippedAt?: string; deliveredAt?: string } = {}): Promise<RegisteredOrder> {
    const orderId = uniqueId('o');
    const snapshot = buildOrder(spec);
    const token = await this.integration();
    await this.must(this.api.put(`/v1/orders/${orderId}`, snapshot, { token }), 201, `register ${orderId}`);
    if (progress !== 'placed') {
      const shippedAt = times.shippedAt ?? hoursAgo(48);
      await this.must(this.api.post(`/v1/orders/${orderId}/shipped`, { carrier: 'SF', trackingNumber: `SF${orderId}`, shippedAt }, { token }), 200, `ship ${orderId}`);
    }
    if (progress === 'delivered') {
      const deliveredAt = times.deliveredAt ?? hoursAgo(1);
      await this.must(this.api.post(`/v1/orders/${orderId}/delivered`, { deliveredAt }, { token }), 200, `deliver ${orderId}`);
    }
    return { orderId, snapshot };
  }

  async openCase(token: string, request: CaseRequest, options: RequestOptions = {}): Promise<ApiResponse> {
    return this.api.post('/v1/cases', request, { ...options, token });
  }

  /** Opens a case that must be accepted; returns the case as the buyer sees it. */
  async mustOpenCase(token: string, request: CaseRequest): Promise<any> {
    return (await this.must(this.openCase(token, request), 201, `open ${request.kind} on ${request.orderId}`)).body;
  }

  act(caseId: string, action: string, token: string, body?: unknown, options: RequestOptions = {}): Promise<ApiResponse> {
    return this.api.post(`/v1/cases/${caseId}/${action}`, body, { ...options, token });
  }

  /** A command that must succeed (200); returns the case as its caller now sees it. */
  async mustAct(caseId: string, action: string, token: string, body: unknown = {}): Promise<any> {
    return (await this.must(this.act(caseId, action, token, body), 200, `${action} on ${caseId}`)).body;
  }

  async getCase(caseId: string, token: string): Promise<ApiResponse> {
    return this.api.get(`/v1/cases/${caseId}`, { token });
  }

  /** The case stream as staff read it. */
  async events(caseId: string): Promise<any[]> {
    const response = await this.must(this.api.get(`/v1/cases/${caseId}/events`, { token: await this.admin() }), 200, `events of ${caseId}`);
    if (!Array.isArray(response.body?.items)) throw new Error(`events of ${caseId} is not { items: [...] }: ${describeResponse(response)}`);
    return response.body.items;
  }

  async eventTypes(caseId: string): Promise<string[]> {
    return (await this.events(caseId)).map((event) => event.type as string);
  }

  async readOrder(orderId: string): Promise<any> {
    return (await this.must(this.api.get(`/v1/orders/${orderId}`, { token: await this.integration() }), 200, `read ${orderId}`)).body;
  }

  /** What a refused request must leave untouched: the case stream and the order stream's revision. */
  async storeSnapshot(caseId: string | undefined, orderId: string): Promise<StoreSnapshot> {
    const order = await this.readOrder(orderId);
    return { events: caseId ? await this.events(caseId) : [], orderRevision: order.revision, ledger: order.refundLedger };
  }

  async must(pending: Promise<ApiResponse>, status: number, what: string): Promise<ApiResponse> {
    const response = await pending;
    if (response.status !== status) throw new Error(`${what}: expected ${status}, got ${describeResponse(response)}`);
    return response;
  }
}

/** Checks an error is RFC 9457 problem+json with API.md's members, and returns its body. */
export function expectProblem(response: ApiResponse, status: number): any {
  if (response.status !== status) throw new Error(`expected ${status}, got ${describeResponse(response)}`);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toEqual(
    expect.objectContaining({ type: expect.any(String), title: expect.any(String), status, detail: expect.any(String) }),
  );
  if (status === 400) expect(response.body.errors === undefined || Array.isArray(response.body.errors)).toBe(true);
  if (status === 409 && response.body.allowedActions !== undefined) expect(Array.isArray(response.body.allowedActions)).toBe(true);
  if (status === 422) expect(response.body.rule).toEqual(expect.any(String));
  return response.body;
}

/** `expected` appears in `actual` in this order (other types may sit between). */
export function expectSubsequence(actual: string[], expected: string[]): void {
  let at = 0;
  for (const type of actual) if (type === expected[at]) at += 1;
  if (at < expected.length) throw new Error(`expected ${JSON.stringify(expected)} in order within ${JSON.stringify(actual)}`);
}
