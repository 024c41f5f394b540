import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Platform, type CaseRequest } from './support/platform';
import { uniqueId } from './support/orders';
import { startService, stopService, type StartedService } from './support/service';

jest.setTimeout(90_000);

// A process that crashes after appending a case but before its Idempotency-Key
// record is durable leaves the key's claim behind (it is in the write-ahead log
// before the case's events, so their fsync covers it). Once its lease runs out
// the retry runs the request again: it must name the same case and open no second one.

const MERCHANT = 'm-lost-record';

describe('POST /v1/cases retried after its idempotency record was lost', () => {
  let started: StartedService;
  let p: Platform;
  let db: Database.Database;

  beforeAll(async () => {
    started = await startService();
    p = new Platform(started.api);
    // A second connection on the service's file, as another process would have.
    db = new Database(join(started.service.dataDir, 'aftersales.db'), { timeout: 5_000 });
  }, 90_000);

  afterAll(async () => {
    db?.close();
    await stopService(started);
  });

  const opened = async () => {
    const buyerId = uniqueId('b');
    const buyer = await p.buyer(buyerId);
    const { orderId } = await p.order({ buyerId, merchantId: MERCHANT, businessLine: 'sports', lines: [{}, {}] });
    const request: CaseRequest = { orderId, kind: 'partial_refund', reason: 'not_as_described', lines: [{ lineId: 'L1', quantity: 1 }], requestedAmount: 3_000 };
    const key = uniqueId('key');
    const first = await p.openCase(buyer, request, { idempotencyKey: key });
    expect(first.status).toBe(201);
    return { buyer, orderId, request, key, first, before: await p.storeSnapshot(first.body.caseId, orderId) };
  };

  const expectSameCase = async ({ buyer, orderId, request, key, first, before }: Awaited<ReturnType<typeof opened>>) => {
    const retry = await p.openCase(buyer, request, { idempotencyKey: key });
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(retry.status).toBe(201);
    expect(retry.body.caseId).toBe(first.body.caseId);
    expect(retry.headers.location).toBe(`/v1/cases/${first.body.caseId}`);
    // Nothing appended: the case stream and the order's holds are as the first attempt left them.
    expect(await p.storeSnapshot(first.body.caseId, orderId)).toEqual(before);
    expect((await p.eventTypes(first.body.caseId)).filter((type) => type === 'ReturnRequested')).toHaveLength(1);
  };

  it('after a crash left only the claim and its lease ran out, the retry answers with the same case and appends nothing', async () => {
    const attempt = await opened();
    const lapsed = db
      .prepare(`UPDATE idempotency_records SET state = 'in_progress', status = NULL, headers = NULL, body = NULL, expires_at = 0 WHERE idempotency_key = ?`)
      .run(attempt.key);
    expect(lapsed.changes).toBe(1);
    await expectSameCase(attempt);
  });

  it('a keyed case command whose record a crash took back is answered with the case as it is, appending nothing', async () => {
    const { first, orderId } = await opened();
    const caseId = first.body.caseId as string;
    const merchant = await p.merchant(MERCHANT);
    const key = uniqueId('approve');
    const approved = await p.act(caseId, 'approve', merchant, {}, { idempotencyKey: key });
    expect(approved.status).toBe(200);
    const before = await p.storeSnapshot(caseId, orderId);
    // The record was committed but not yet on disk when the process died: only the claim is left, lapsed.
    const lost = db
      .prepare(`UPDATE idempotency_records SET state = 'in_progress', status = NULL, headers = NULL, body = NULL, expires_at = 0 WHERE idempotency_key = ?`)
      .run(key);
    expect(lost.changes).toBe(1);

    const retry = await p.act(caseId, 'approve', merchant, {}, { idempotencyKey: key });
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ caseId, status: approved.body.status, revision: approved.body.revision });
    expect(await p.storeSnapshot(caseId, orderId)).toEqual(before);
    // Without the key the same approval is refused: it is not in allowedActions any more.
    expect((await p.act(caseId, 'approve', merchant, {})).status).toBe(409);
  });

  it('another key opens another case', async () => {
    const attempt = await opened();
    const other = await p.openCase(attempt.buyer, { ...attempt.request, lines: [{ lineId: 'L2', quantity: 1 }] }, { idempotencyKey: uniqueId('key') });
    expect(other.status).toBe(201);
    expect(other.body.caseId).not.toBe(attempt.first.body.caseId);
  });
});
