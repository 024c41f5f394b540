import { timeOrderedUuid } from './time-ordered-uuid';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('timeOrderedUuid', () => {
  it('is a version 7 UUID in canonical form', () => {
    for (let i = 0; i < 1_000; i++) expect(timeOrderedUuid()).toMatch(UUID_V7);
  });

  it('starts with the time in milliseconds', () => {
    const at = Date.UTC(2026, 10, 23, 14, 0, 0, 123);
    const id = timeOrderedUuid(at);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
  });

  it('sorts ids of later milliseconds after earlier ones', () => {
    const ids = Array.from({ length: 2_000 }, (_, i) => timeOrderedUuid(1_700_000_000_000 + i));
    expect([...ids].sort()).toEqual(ids);
  });

  it('does not repeat itself across blocks of random bytes', () => {
    const at = Date.now();
    const ids = new Set(Array.from({ length: 10_000 }, () => timeOrderedUuid(at)));
    expect(ids.size).toBe(10_000);
  });
});
