import { caseIdFor } from './case-id';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('caseIdFor', () => {
  it('names the case with the id its Idempotency-Key claim drew', () => {
    const claimed = '01890a5d-ac96-774b-bcce-b302099a8057';
    expect(caseIdFor(claimed)).toBe(claimed);
  });

  it('draws a fresh UUIDv7 without a key', () => {
    const a = caseIdFor(undefined);
    expect(a).toMatch(UUID_V7);
    expect(caseIdFor(undefined)).not.toBe(a);
  });
});
