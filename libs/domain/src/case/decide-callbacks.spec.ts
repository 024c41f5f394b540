import { act, after, given, HOUR, integration, merchant, request, World } from '../testing';
import { iso } from '../time';

// Payment outcomes as the payment centre reports them: a report repeated
// (same refund, same time of the attempt) records nothing.

const refundingCase = () => new World().delivered().run(request({ kind: 'partial_refund', requestedAmount: 8_000 })).run(act('approve', merchant));
const refundIdOf = (w: World): string => w.case().refunds[0].refundId;
const failed = (refundId: string, attempt: number, at?: string, error?: string) =>
  act('refund-failed', integration, { refundId, attempt, final: false, ...(at !== undefined ? { at } : {}), ...(error !== undefined ? { error } : {}) });
const when = (w: World, command: Parameters<ReturnType<typeof given>['when']>[0]) => given(w.events('c1')).when(command, w.ctx());

describe('payment callbacks', () => {
  it('records a failed attempt with the time the payment centre gave', () => {
    const w = refundingCase();
    const refundId = refundIdOf(w);
    const at = '2025-03-01T09:00:00+01:00';
    when(w, failed(refundId, 1, at, 'bank down')).then({
      type: 'RefundFailed',
      data: { refundId, error: 'bank down', attempt: 1, final: false, at: iso(after(0)) },
    });
  });

  it('a repeated failed report records nothing, even when the sender counted it as a new attempt', () => {
    const w = refundingCase();
    const refundId = refundIdOf(w);
    const at = iso(after(HOUR));
    w.run(failed(refundId, 1, at, 'bank down'));
    // The callback route counts attempts from the case, so a repeat arrives as attempt 2.
    when(w, failed(refundId, 2, at, 'bank down')).thenNothing();
    // The same instant written in another zone is the same report.
    when(w, failed(refundId, 2, '2025-03-01T10:00:00+01:00')).thenNothing();
    expect(w.case().refunds[0]).toMatchObject({ attempts: 1, status: 'pending' });
  });

  it('a failure at another time is the next attempt, even one counted from an older view of the case', () => {
    const w = refundingCase();
    const refundId = refundIdOf(w);
    w.run(failed(refundId, 1, iso(after(HOUR))));
    const state = when(w, failed(refundId, 1, iso(after(2 * HOUR)))).then({
      type: 'RefundFailed',
      data: { refundId, attempt: 2, final: false, at: iso(after(2 * HOUR)) },
    });
    expect(state).toMatchObject({ refunds: [{ attempts: 2, failedAt: [iso(after(HOUR)), iso(after(2 * HOUR))] }] });
  });

  it('an older repeat arriving after a later attempt still records nothing', () => {
    const w = refundingCase();
    const refundId = refundIdOf(w);
    w.run(failed(refundId, 1, iso(after(HOUR))), failed(refundId, 2, iso(after(2 * HOUR))));
    when(w, failed(refundId, 3, iso(after(HOUR)))).thenNothing();
  });

  it('without a time, a report is known by its attempt number; an unreadable time is refused', () => {
    const w = refundingCase();
    const refundId = refundIdOf(w);
    w.run(failed(refundId, 1));
    when(w, failed(refundId, 1)).thenNothing();
    when(w, failed(refundId, 2, 'yesterday')).thenRefused('invalid_time');
  });

  it('a failed report after the refund settled records nothing', () => {
    const w = refundingCase();
    const refundId = refundIdOf(w);
    w.run(act('refund-settled', integration, { refundId, at: iso(after(HOUR)) }));
    when(w, failed(refundId, 1, iso(after(2 * HOUR)))).thenNothing();
  });
});
