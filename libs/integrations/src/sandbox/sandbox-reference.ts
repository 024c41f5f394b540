import { createHash } from 'node:crypto';

/** `digits` decimal digits derived from `key`: the same key always gives the same ones. */
export function digitsFrom(key: string, digits: number): string {
  const hash = createHash('sha256').update(key, 'utf8').digest();
  const modulus = 10n ** BigInt(digits);
  return (hash.readBigUInt64BE(0) % modulus).toString().padStart(digits, '0');
}
