/**
 * A seeded pseudo-random source (mulberry32): the same `--seed` draws the
 * same numbers in the same order, so a seeded history can be made again.
 * Not for anything secret.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)];
  }

  /** One item, each as likely as its weight; undefined when no weight is positive. */
  weighted<T extends { weight: number }>(items: readonly T[]): T | undefined {
    const total = items.reduce((sum, item) => sum + Math.max(0, item.weight), 0);
    if (total <= 0) return undefined;
    let left = this.next() * total;
    for (const item of items) {
      left -= Math.max(0, item.weight);
      if (left < 0) return item;
    }
    return items[items.length - 1];
  }

  /**
   * A UUID version 7 for the instant `ms` whose random part comes from this
   * source: seeded ids are the same on every run, and still sort by time as
   * the service's own ids do.
   */
  uuidAt(ms: number): string {
    const bytes = new Array<number>(16);
    let rest = Math.floor(ms);
    for (let i = 5; i >= 0; i -= 1) {
      bytes[i] = rest % 256;
      rest = Math.floor(rest / 256);
    }
    for (let i = 6; i < 16; i += 1) bytes[i] = Math.floor(this.next() * 256);
    bytes[6] = 0x70 | (bytes[6] & 0x0f);
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}
