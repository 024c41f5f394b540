import fc from 'fast-check';
import { lineRefundableFor, proportionalShare, splitProRata } from './money';

describe('line refundable', () => {
  const line = { paidAmount: 10_000, quantity: 3, givenBack: 0, left: 10_000 };

  test('part of a line is its rounded-down share', () => {
    expect(lineRefundableFor(line, 1)).toBe(3_333);
    expect(lineRefundableFor(line, 2)).toBe(6_666);
  });

  test('every unit not yet given back is exactly what is left', () => {
    expect(lineRefundableFor(line, 3)).toBe(10_000);
    // One unit came back for 3333: the last two units are worth what is left, not 6666.
    expect(lineRefundableFor({ ...line, givenBack: 1, left: 6_667 }, 2)).toBe(6_667);
  });

  test('never more than what is left on the line', () => {
    expect(lineRefundableFor({ ...line, left: 1_000 }, 1)).toBe(1_000);
    expect(lineRefundableFor({ ...line, left: 0 }, 3)).toBe(0);
  });

  test('a case\'s own earlier refunds on the line are not counted twice', () => {
    // The case holds one unit (3333) and 2000 of it was already reserved for it.
    expect(lineRefundableFor({ ...line, left: 8_000 }, 1, 2_000)).toBe(1_333);
  });

  test('exact for amounts beyond 2^53 / quantity', () => {
    expect(proportionalShare(9_000_000_000_000, 7_777, 10_000)).toBe(6_999_300_000_000);
  });
});

describe('pro-rata split', () => {
  test('rounds down and puts the remainder on the last line', () => {
    expect(splitProRata(100, [{ key: 'a', cap: 300 }, { key: 'b', cap: 300 }, { key: 'c', cap: 300 }])).toEqual([
      { key: 'a', amount: 33 },
      { key: 'b', amount: 33 },
      { key: 'c', amount: 34 },
    ]);
    expect(splitProRata(1_000, [{ key: 'a', cap: 20_000 }, { key: 'b', cap: 9_999 }])).toEqual([
      { key: 'a', amount: 666 },
      { key: 'b', amount: 334 },
    ]);
  });

  test('a remainder the last line cannot take moves to earlier lines', () => {
    expect(splitProRata(2, [{ key: 'a', cap: 1 }, { key: 'b', cap: 1 }, { key: 'c', cap: 1 }])).toEqual([
      { key: 'a', amount: 0 },
      { key: 'b', amount: 1 },
      { key: 'c', amount: 1 },
    ]);
  });

  test('refuses to split more than the caps allow', () => {
    expect(() => splitProRata(3, [{ key: 'a', cap: 1 }])).toThrow(RangeError);
  });

  test('shares add up, stay within caps, and the last line takes the remainder', () => {
    const caps = fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(caps, fc.double({ min: 0, max: 1, noNaN: true }), (capList, fraction) => {
        const total = capList.reduce((s, c) => s + c, 0);
        const amount = Math.floor(total * fraction);
        const shares = splitProRata(amount, capList.map((cap, i) => ({ key: i, cap })));
        expect(shares.reduce((s, x) => s + x.amount, 0)).toBe(amount);
        shares.forEach((x, i) => {
          expect(x.amount).toBeGreaterThanOrEqual(0);
          expect(x.amount).toBeLessThanOrEqual(capList[i]);
        });
        // Every line but those the remainder reached gets exactly its rounded-down share.
        const floors = capList.map((cap) => (total === 0 ? 0 : Math.floor((amount * cap) / total)));
        expect(shares[0].amount).toBeGreaterThanOrEqual(floors[0]);
      }),
      { numRuns: 200 },
    );
  });
});
