import { FixedWindowThrottlerStorage } from './fixed-window-storage';

describe('FixedWindowThrottlerStorage', () => {
  afterEach(() => jest.useRealTimers());

  it('counts hits per key and blocks above the limit until the window ends', async () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const storage = new FixedWindowThrottlerStorage();
    for (let i = 1; i <= 3; i += 1) expect((await storage.increment('a', 60_000, 3, 60_000, 'default')).isBlocked).toBe(false);
    const fourth = await storage.increment('a', 60_000, 3, 60_000, 'default');
    expect(fourth).toMatchObject({ totalHits: 4, isBlocked: true, timeToExpire: 60, timeToBlockExpire: 60 });
    expect((await storage.increment('b', 60_000, 3, 60_000, 'default')).totalHits).toBe(1);

    jest.setSystemTime(new Date('2026-01-01T00:00:45Z'));
    expect(await storage.increment('a', 60_000, 3, 60_000, 'default')).toMatchObject({ isBlocked: true, timeToExpire: 15 });
    jest.setSystemTime(new Date('2026-01-01T00:01:00Z'));
    expect(await storage.increment('a', 60_000, 3, 60_000, 'default')).toMatchObject({ totalHits: 1, isBlocked: false });
  });
});
