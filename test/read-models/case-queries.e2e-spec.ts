import { ApiClient } from '../e2e/support/http';
import { Platform } from '../e2e/support/platform';
import { startService, stopService, type StartedService } from '../e2e/support/service';
import { uniqueId } from '../e2e/support/orders';

/**
 * The case queries as `npm start` serves them: the projector runs in the
 * service, and a read after a write waits for it with `minPosition`.
 */
describe('case queries on the service as npm start runs it', () => {
  let started: StartedService | undefined;
  let api: ApiClient;
  let platform: Platform;

  beforeAll(async () => {
    started = await startService();
    api = started.api;
    platform = new Platform(api);
  }, 120_000);

  afterAll(async () => {
    await stopService(started);
  });

  it('lists a new case for its buyer and its merchant after minPosition, and shows its timeline', async () => {
    const buyer = uniqueId('u');
    const merchant = uniqueId('m');
    const { orderId } = await platform.order({ buyerId: buyer, merchantId: merchant, businessLine: 'apparel' });
    const opened = await platform.mustOpenCase(await platform.buyer(buyer), {
      orderId,
      kind: 'return_and_refund',
      reason: 'quality_defect',
      lines: [{ lineId: 'L1', quantity: 1 }],
    });

    const mine = await api.get(`/v1/cases?minPosition=${opened.position}`, { token: await platform.buyer(buyer) });
    expect(mine.status).toBe(200);
    expect(mine.body.items).toEqual([expect.objectContaining({ caseId: opened.caseId, orderId, status: opened.status, statusLabel: opened.statusLabel })]);

    const theirs = await api.get(`/v1/cases?merchantId=${merchant}&minPosition=${opened.position}`, { token: await platform.merchant(merchant) });
    expect(theirs.body.items.map((i: { caseId: string }) => i.caseId)).toEqual([opened.caseId]);
    const stranger = await api.get(`/v1/cases?minPosition=${opened.position}`, { token: await platform.buyer(uniqueId('u')) });
    expect(stranger.body.items).toEqual([]);

    const timeline = await api.get(`/v1/cases/${opened.caseId}/timeline?minPosition=${opened.position}`, { token: await platform.buyer(buyer) });
    expect(timeline.status).toBe(200);
    expect(timeline.body).toMatchObject({ caseId: opened.caseId, status: opened.status, items: [{ label: 'Request submitted' }] });

    const health = await api.get('/health');
    expect(health.body.details.readStore).toMatchObject({ status: 'up' });
  }, 60_000);
});
