// Money is integers in the currency's minor unit; no floating point touches it.

/** ⌊paid × quantity ÷ ordered⌋, exact for any safe integers. */
export function proportionalShare(paid: number, quantity: number, ordered: number): number {
  if (ordered <= 0) return 0;
  return Number((BigInt(paid) * BigInt(quantity)) / BigInt(ordered));
}

export interface LineMoney {
  /** What was paid for all the line's units. */
  paidAmount: number;
  /** Units ordered. */
  quantity: number;
  /** Units already given back by completed cases. */
  givenBack: number;
  /** paidAmount less refunds reserved or settled on the line. */
  left: number;
}

/**
 * A line's refundable for `quantity` units (DOMAIN.md, *Money*): the smaller of
 * the units' share and what is left; for every unit not yet given back, all
 * that is left. `ownReserved` is what the asking case already reserved on the
 * line, so a second refund of one case never counts the first one twice.
 */
export function lineRefundableFor(line: LineMoney, quantity: number, ownReserved = 0): number {
  if (quantity <= 0) return 0;
  const remainingUnits = line.quantity - line.givenBack;
  const base = quantity >= remainingUnits ? line.left + ownReserved : proportionalShare(line.paidAmount, quantity, line.quantity);
  return Math.max(0, Math.min(base - ownReserved, line.left));
}

export interface Share<K> {
  key: K;
  amount: number;
}

/**
 * Splits `amount` over parts pro rata to their caps, rounding down, the
 * remainder on the last part. Where the remainder would take the last part
 * above its cap, the excess moves back to earlier parts, so no line is ever
 * charged more than its refundable. Requires 0 ≤ amount ≤ Σ caps.
 */
export function splitProRata<K>(amount: number, parts: ReadonlyArray<{ key: K; cap: number }>): Share<K>[] {
  const total = parts.reduce((s, p) => s + p.cap, 0);
  if (amount < 0 || amount > total) throw new RangeError(`cannot split ${amount} over ${total}`);
  if (total === 0) return parts.map((p) => ({ key: p.key, amount: 0 }));
  const shares = parts.map((p) => ({ key: p.key, amount: proportionalShare(amount, p.cap, total) }));
  let remainder = amount - shares.reduce((s, p) => s + p.amount, 0);
  for (let i = shares.length - 1; i >= 0 && remainder > 0; i -= 1) {
    const room = parts[i].cap - shares[i].amount;
    const add = Math.min(room, remainder);
    shares[i].amount += add;
    remainder -= add;
  }
  return shares;
}

export const sumOf = (amounts: readonly number[]): number => amounts.reduce((s, a) => s + a, 0);
