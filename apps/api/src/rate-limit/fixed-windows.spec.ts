import { FixedWindows } from './fixed-windows';

describe('FixedWindows', () => {
  const at = (time: string) => Date.parse(`2026-01-01T${time}Z`);

  it('counts hits per key until the window ends, then starts again', () => {
    const windows = new FixedWindows(60_000);
    for (let i = 1; i <= 3; i += 1) expect(windows.hit('a', at('00:00:00'))).toEqual({ hits: i, secondsLeft: 60 });
    expect(windows.hit('b', at('00:00:00')).hits).toBe(1);
    expect(windows.hit('a', at('00:00:45'))).toEqual({ hits: 4, secondsLeft: 15 });
    expect(windows.hit('a', at('00:00:59.900'))).toEqual({ hits: 5, secondsLeft: 1 });
    expect(windows.hit('a', at('00:01:00'))).toEqual({ hits: 1, secondsLeft: 60 });
  });

  it('forgets idle keys as hits come in', () => {
    const windows = new FixedWindows(1_000);
    windows.hit('idle', at('00:00:00'));
    for (let i = 0; i < 10_000; i += 1) windows.hit(`busy-${i % 10}`, at('00:00:05'));
    expect(windows.hit('idle', at('00:00:05')).hits).toBe(1);
  });
});
