import type { ApiResponse } from './http';

/** ISO-8601 with a zone, as API.md requires of every time. */
export const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export const BUYER_LABELS: Record<string, string> = {
  pending_merchant: 'Waiting for the seller (待商家处理)',
  negotiating: 'Seller made an offer (协商中)',
  rejected: 'Seller declined (商家已拒绝)',
  awaiting_return: 'Please return the item (待退货)',
  return_in_transit: 'Return on its way (退货中)',
  refunding: 'Refund in progress (退款中)',
  awaiting_replacement: 'Seller is preparing your item',
  in_repair: 'Being repaired (维修中)',
  replacement_in_transit: 'Replacement on its way',
  escalated: 'Platform is reviewing (平台介入中)',
  completed: 'Done (售后完成)',
  closed: 'Closed (售后关闭)',
};

/**
 * A case response as API.md shapes it: every named field with its type, the
 * label the caller's role sees, ISO deadlines, and `ETag: "<revision>"`.
 * `command` responses also carry `position`.
 */
export function expectCaseResponse(response: ApiResponse, viewer: 'buyer' | 'other', command = true): any {
  const c = response.body;
  expect(c).toEqual(
    expect.objectContaining({
      caseId: expect.any(String),
      orderId: expect.any(String),
      buyerId: expect.any(String),
      merchantId: expect.any(String),
      businessLine: expect.any(String),
      kind: expect.any(String),
      reason: expect.any(String),
      responsible: expect.any(String),
      department: expect.any(String),
      status: expect.any(String),
      statusLabel: expect.any(String),
      requestedAmount: expect.any(Number),
      refunded: expect.any(Number),
      currency: expect.any(String),
      lines: expect.any(Array),
      deadlines: expect.any(Object),
      refunds: expect.any(Array),
      priority: expect.any(Number),
      revision: expect.any(Number),
      allowedActions: expect.any(Array),
      requestedAt: expect.stringMatching(ISO_WITH_ZONE),
      updatedAt: expect.stringMatching(ISO_WITH_ZONE),
    }),
  );
  expect(c.statusLabel).toBe(viewer === 'buyer' ? BUYER_LABELS[c.status] : c.status);
  for (const [name, at] of Object.entries(c.deadlines)) {
    expect({ name, at }).toEqual({ name, at: expect.stringMatching(ISO_WITH_ZONE) });
  }
  for (const refund of c.refunds) {
    expect(refund).toEqual(
      expect.objectContaining({
        refundId: expect.any(String),
        amount: expect.any(Number),
        purpose: expect.stringMatching(/^(refund|compensation)$/),
        express: expect.any(Boolean),
        status: expect.stringMatching(/^(pending|settled|failed)$/),
      }),
    );
  }
  expect(Number.isInteger(c.priority) && c.priority >= 0).toBe(true);
  expect(response.headers.etag).toBe(`"${c.revision}"`);
  if (command) expect(Number.isInteger(c.position) && c.position >= 0).toBe(true);
  return c;
}

/** Milliseconds between two ISO times. */
export const msBetween = (from: string, to: string): number => Date.parse(to) - Date.parse(from);
