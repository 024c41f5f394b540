import { Agenda } from './agenda';
import { Random } from './random';

describe('Agenda', () => {
  it('gives entries earliest first, and entries due together in the order they were added', () => {
    const agenda = new Agenda<string>();
    agenda.add(30, 'c');
    agenda.add(10, 'a1');
    agenda.add(20, 'b');
    agenda.add(10, 'a2');
    expect(agenda.peek()).toEqual({ at: 10, item: 'a1' });
    const out: string[] = [];
    for (let e = agenda.take(); e; e = agenda.take()) out.push(e.item);
    expect(out).toEqual(['a1', 'a2', 'b', 'c']);
    expect(agenda.size).toBe(0);
  });

  it('sorts many random entries like a stable sort does', () => {
    const random = new Random(3);
    const agenda = new Agenda<number>();
    const entries = Array.from({ length: 2000 }, (_, i) => ({ at: random.int(0, 300), i }));
    for (const e of entries) agenda.add(e.at, e.i);
    const out: number[] = [];
    for (let e = agenda.take(); e; e = agenda.take()) out.push(e.item);
    expect(out).toEqual([...entries].sort((a, b) => a.at - b.at || a.i - b.i).map((e) => e.i));
  });
});

describe('Random', () => {
  it('draws the same numbers for the same seed, others for another', () => {
    const draw = (seed: number) => {
      const r = new Random(seed);
      return Array.from({ length: 20 }, () => r.next());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(43)).not.toEqual(draw(42));
    expect(draw(42).every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('keeps int within its bounds and reaches both ends', () => {
    const r = new Random(1);
    const seen = new Set(Array.from({ length: 500 }, () => r.int(2, 5)));
    expect([...seen].sort()).toEqual([2, 3, 4, 5]);
  });

  it('picks by weight, never a zero weight', () => {
    const r = new Random(9);
    const counts = { a: 0, b: 0, c: 0 };
    const items = [
      { name: 'a' as const, weight: 3 },
      { name: 'b' as const, weight: 1 },
      { name: 'c' as const, weight: 0 },
    ];
    for (let i = 0; i < 4000; i += 1) counts[r.weighted(items)!.name] += 1;
    expect(counts.c).toBe(0);
    expect(counts.a / counts.b).toBeGreaterThan(2.5);
    expect(counts.a / counts.b).toBeLessThan(3.5);
    expect(r.weighted([{ weight: 0 }])).toBeUndefined();
  });

  it('makes version 7 UUIDs that carry the instant and repeat with the seed', () => {
    const at = Date.parse('2026-05-01T12:00:00.000Z');
    const id = new Random(5).uuidAt(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
    expect(new Random(5).uuidAt(at)).toBe(id);
  });
});
