import type { ApiResponse } from './support/http';
import { Platform, expectProblem } from './support/platform';
import { buildOrder, uniqueId } from './support/orders';
import { startService, stopService, type StartedService } from './support/service';

jest.setTimeout(60_000);

// The access matrix of API.md's identity table and DOMAIN.md's actors: each
// role against each route, on a fresh order and case per cell so that a
// permitted command never changes what the next cell sees.

const BUYER = 'b-access-own';
const MERCHANT = 'm-access-own';
const LINE = 'digital';

const ROLES = ['buyerOwn', 'buyerForeign', 'merchantOwn', 'merchantForeign', 'agentOwn', 'agentForeign', 'arbitrator', 'admin', 'integration'] as const;
type RoleKey = (typeof ROLES)[number];

type Setup = 'pending' | 'held' | 'placed' | 'shipped';

interface Fixture {
  orderId: string;
  caseId: string;
}

interface Route {
  name: string;
  setup: Setup;
  send: (p: Platform, f: Fixture, token: string) => Promise<ApiResponse>;
  /** Cells not named here expect 403: the role never uses the route. */
  expect: Partial<Record<RoleKey, number>>;
}

const caseAction = (action: string, body: unknown = {}, setup: Setup = 'pending') =>
  (expectations: Partial<Record<RoleKey, number>>): Route => ({
    name: `POST /v1/cases/:id/${action}${setup === 'held' ? ' (held)' : ''}`,
    setup,
    send: (p, f, token) => p.act(f.caseId, action, token, body),
    expect: expectations,
  });

const SEEN_BY_ALL_CASE_READERS = { buyerOwn: 200, buyerForeign: 404, merchantOwn: 200, merchantForeign: 404, agentOwn: 200, agentForeign: 404 } as const;

const ROUTES: Route[] = [
  {
    name: 'GET /v1/orders/:id',
    setup: 'pending',
    send: (p, f, token) => p.api.get(`/v1/orders/${f.orderId}`, { token }),
    // The arbitrator's view of orders is not named by the identity table, so it is left out.
    expect: { ...SEEN_BY_ALL_CASE_READERS, admin: 200, integration: 200, arbitrator: undefined },
  },
  {
    name: 'PUT /v1/orders/:id (new)',
    setup: 'pending',
    send: (p, _f, token) => p.api.put(`/v1/orders/${uniqueId('o')}`, buildOrder({ buyerId: BUYER, merchantId: MERCHANT, businessLine: LINE }), { token }),
    expect: { integration: 201 },
  },
  {
    name: 'PUT /v1/orders/:id (same snapshot)',
    setup: 'placed',
    send: async (p, f, token) => p.api.put(`/v1/orders/${f.orderId}`, snapshots.get(f.orderId), { token }),
    expect: { integration: 200 },
  },
  {
    name: 'POST /v1/orders/:id/shipped',
    setup: 'placed',
    send: (p, f, token) => p.api.post(`/v1/orders/${f.orderId}/shipped`, { carrier: 'SF', trackingNumber: 'SF-A1', shippedAt: new Date(Date.now() - 60_000).toISOString() }, { token }),
    expect: { integration: 200 },
  },
  {
    name: 'POST /v1/orders/:id/delivered',
    setup: 'shipped',
    send: (p, f, token) => p.api.post(`/v1/orders/${f.orderId}/delivered`, { deliveredAt: new Date().toISOString() }, { token }),
    expect: { integration: 200 },
  },
  {
    name: 'GET /v1/orders/:id/eligibility',
    setup: 'pending',
    send: (p, f, token) => p.api.get(`/v1/orders/${f.orderId}/eligibility`, { token }),
    expect: { buyerOwn: 200, buyerForeign: 404, agentOwn: 200, agentForeign: 404, admin: 200 },
  },
  {
    name: 'POST /v1/cases',
    setup: 'pending',
    send: (p, f, token) => p.openCase(token, { orderId: f.orderId, kind: 'exchange', reason: 'changed_mind', lines: [{ lineId: 'L2', quantity: 1 }], pickup: false }),
    expect: { buyerOwn: 201, buyerForeign: 404, agentOwn: 201, agentForeign: 404 },
  },
  {
    name: 'GET /v1/cases/:id',
    setup: 'pending',
    send: (p, f, token) => p.getCase(f.caseId, token),
    expect: { ...SEEN_BY_ALL_CASE_READERS, arbitrator: 200, admin: 200 },
  },
  {
    name: 'GET /v1/cases/:id/events',
    setup: 'pending',
    send: (p, f, token) => p.api.get(`/v1/cases/${f.caseId}/events`, { token }),
    expect: { agentOwn: 200, agentForeign: 404, arbitrator: 200, admin: 200 },
  },
  // Merchant decisions (an agent approves within its authority, on a case it holds).
  caseAction('approve', {}, 'held')({ merchantOwn: 200, merchantForeign: 404, agentOwn: 200, agentForeign: 404 }),
  caseAction('reject', { reason: 'Out of policy' })({ merchantOwn: 200, merchantForeign: 404 }),
  caseAction('counter-offer', { amount: 3_000 })({ merchantOwn: 200, merchantForeign: 404 }),
  caseAction('confirm-receipt', { inspection: 'passed' })({ merchantOwn: 409, merchantForeign: 404 }),
  caseAction('ship-replacement', { carrier: 'SF', trackingNumber: 'SF-R' })({ merchantOwn: 409, merchantForeign: 404 }),
  caseAction('declare-unrepairable', {})({ merchantOwn: 409, merchantForeign: 404 }),
  // The buyer's own steps.
  caseAction('withdraw')({ buyerOwn: 200, buyerForeign: 404 }),
  caseAction('urge')({ buyerOwn: 409, buyerForeign: 404 }),
  caseAction('accept-offer')({ buyerOwn: 409, buyerForeign: 404 }),
  caseAction('decline-offer')({ buyerOwn: 409, buyerForeign: 404 }),
  caseAction('amend', { description: 'More detail' })({ buyerOwn: 409, buyerForeign: 404 }),
  caseAction('ship-return', { carrier: 'YTO', trackingNumber: 'YT-A' })({ buyerOwn: 409, buyerForeign: 404 }),
  caseAction('confirm-delivery')({ buyerOwn: 409, buyerForeign: 404 }),
  caseAction('escalate', { reason: 'Help' })({ buyerOwn: 409, buyerForeign: 404 }),
  caseAction('rate', { score: 5 })({ buyerOwn: 409, buyerForeign: 404 }),
  // Platform and agent work.
  caseAction('rule', { ruling: 'merchant', note: 'Not escalated yet' })({ arbitrator: 409 }),
  caseAction('claim')({ agentOwn: 200, agentForeign: 404 }),
  caseAction('release', {}, 'held')({ agentOwn: 200, agentForeign: 404, admin: 200 }),
  caseAction('assign', { agentId: 'agent-z' })({ admin: 200 }),
  caseAction('transfer', { agentId: 'agent-z' }, 'held')({ admin: 200 }),
  caseAction('note', { text: 'Checked the photos' }, 'held')({ agentOwn: 200, agentForeign: 404, arbitrator: 200, admin: 200 }),
  caseAction('compensate', { amount: 500, form: 'coupon' }, 'held')({ agentOwn: 200, agentForeign: 404 }),
  // Nothing given up on a pending case: the roles that may retry are told it is not an action now.
  caseAction('retry-refund', { refundId: 'no-such-refund' })({ agentOwn: 409, agentForeign: 404, admin: 409 }),
  {
    name: 'GET /v1/policies/platform',
    setup: 'pending',
    send: (p, _f, token) => p.api.get('/v1/policies/platform', { token }),
    expect: { admin: 200 },
  },
  {
    name: 'PUT /v1/policies/merchant-:id',
    setup: 'pending',
    send: (p, _f, token) => p.api.put(`/v1/policies/merchant-${uniqueId('m')}`, { maxAmendments: 3 }, { token }),
    expect: { admin: 200 },
  },
];

const snapshots = new Map<string, unknown>();

const cells = ROUTES.flatMap((route) =>
  ROLES.filter((role) => !(role in route.expect) || route.expect[role] !== undefined).map((role) => ({
    route,
    role,
    status: route.expect[role] ?? 403,
  })),
);

describe('access matrix', () => {
  let started: StartedService;
  let p: Platform;
  const token = {} as Record<RoleKey, string>;

  beforeAll(async () => {
    started = await startService();
    p = new Platform(started.api);
    token.buyerOwn = await p.buyer(BUYER);
    token.buyerForeign = await p.buyer('b-access-foreign');
    token.merchantOwn = await p.merchant(MERCHANT);
    token.merchantForeign = await p.merchant('m-access-foreign');
    token.agentOwn = await p.agent('agent-own', LINE, 1_000_000);
    token.agentForeign = await p.agent('agent-foreign', 'groceries', 1_000_000);
    // An arbitrator of another line still sees every case.
    token.arbitrator = await p.arbitrator('arb-access', 'groceries');
    token.admin = await p.admin();
    token.integration = await p.integration();
  }, 90_000);

  afterAll(() => stopService(started));

  const fixture = async (setup: Setup): Promise<Fixture> => {
    const spec = { buyerId: BUYER, merchantId: MERCHANT, businessLine: LINE, lines: [{}, {}] };
    if (setup === 'placed' || setup === 'shipped') {
      const order = await p.order(spec, setup);
      snapshots.set(order.orderId, order.snapshot);
      return { orderId: order.orderId, caseId: 'no-case' };
    }
    const { orderId } = await p.order(spec);
    const kase = await p.mustOpenCase(token.buyerOwn, { orderId, kind: 'partial_refund', reason: 'not_as_described', lines: [{ lineId: 'L1', quantity: 1 }], requestedAmount: 8_000 });
    if (setup === 'held') await p.mustAct(kase.caseId, 'claim', token.agentOwn);
    return { orderId, caseId: kase.caseId };
  };

  it.each(cells.map((c) => [c.route.name, c.role, c.status, c] as const))('%s as %s → %i', async (_name, role, status, cell) => {
    const f = await fixture(cell.route.setup);
    const hasCase = f.caseId !== 'no-case';
    const before = await p.storeSnapshot(hasCase ? f.caseId : undefined, f.orderId);
    const response = await cell.route.send(p, f, token[role]);
    if (status >= 400) {
      expectProblem(response, status);
      if (status === 409) expect(Array.isArray(response.body.allowedActions)).toBe(true);
      expect(await p.storeSnapshot(hasCase ? f.caseId : undefined, f.orderId)).toEqual(before);
    } else {
      expect({ status: response.status, body: response.status === status ? 'ok' : response.body }).toEqual({ status, body: 'ok' });
    }
  });
});
