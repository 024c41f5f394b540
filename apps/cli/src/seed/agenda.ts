/**
 * What happens next in the simulated world, earliest first; entries due at
 * the same instant come out in the order they were added, so a seeded run
 * always replays the same way.
 */
export class Agenda<T> {
  private readonly heap: { at: number; order: number; item: T }[] = [];
  private added = 0;

  get size(): number {
    return this.heap.length;
  }

  add(at: number, item: T): void {
    const entry = { at, order: this.added++, item };
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  /** The earliest entry, left in place. */
  peek(): { at: number; item: T } | undefined {
    const top = this.heap[0];
    return top && { at: top.at, item: top.item };
  }

  /** The earliest entry, removed; undefined once nothing is left. */
  take(): { at: number; item: T } | undefined {
    const heap = this.heap;
    if (heap.length === 0) return undefined;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let first = i;
        if (left < heap.length && this.before(heap[left], heap[first])) first = left;
        if (right < heap.length && this.before(heap[right], heap[first])) first = right;
        if (first === i) break;
        [heap[i], heap[first]] = [heap[first], heap[i]];
        i = first;
      }
    }
    return { at: top.at, item: top.item };
  }

  private before(a: { at: number; order: number }, b: { at: number; order: number }): boolean {
    return a.at < b.at || (a.at === b.at && a.order < b.order);
  }
}
