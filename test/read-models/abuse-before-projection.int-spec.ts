import { AbuseQuery, caseAnalyticsProjection, prepareProjection } from '@aftersales/read-models';
import { DIALECTS, openTestReadStore, type TestReadStore } from './support/read-stores';

/**
 * The projector makes case_analytics' tables with its first checkpoint, and
 * `npm start` may run the abuse watch (and serve GET /v1/analytics/abuse)
 * before it has: the report is then empty, not a failure.
 */
describe.each(DIALECTS)('the abuse report before case_analytics has its tables (%s)', (dialect) => {
  let t: TestReadStore;

  beforeEach(async () => {
    t = await openTestReadStore(dialect);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('names nobody and lists nothing', async () => {
    const abuse = new AbuseQuery(t.store);
    await expect(abuse.reportedBuyers()).resolves.toEqual([]);
    await expect(abuse.list({ limit: 10 })).resolves.toEqual({ items: [] });
  });

  it('reads the tables once the projection has made them', async () => {
    await prepareProjection(t.store, caseAnalyticsProjection);
    const abuse = new AbuseQuery(t.store);
    // Made, but nothing projected yet: still nothing to report, now read from the tables.
    await expect(abuse.reportedBuyers()).resolves.toEqual([]);
  });
});
