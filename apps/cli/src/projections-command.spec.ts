import { PROJECTIONS } from '@aftersales/read-models';
import { parseProjectionsArguments, progressLine } from './projections-command';
import { UsageError } from './token-command';

describe('projections command', () => {
  it('reads status, rebuild of one or every projection, and help', () => {
    expect(parseProjectionsArguments(['status'])).toEqual({ command: 'status' });
    expect(parseProjectionsArguments(['rebuild', 'case_list'])).toEqual({ command: 'rebuild', names: ['case_list'] });
    expect(parseProjectionsArguments(['rebuild'])).toEqual({ command: 'rebuild', names: PROJECTIONS.map((p) => p.name) });
    expect(parseProjectionsArguments([])).toBe('help');
    expect(parseProjectionsArguments(['--help'])).toBe('help');
  });

  it('refuses unknown commands and projections', () => {
    expect(() => parseProjectionsArguments(['rebuild', 'nope'])).toThrow(UsageError);
    expect(() => parseProjectionsArguments(['drop'])).toThrow(UsageError);
    expect(() => parseProjectionsArguments(['status', 'x'])).toThrow(UsageError);
  });

  it('draws a bar with the share done, events per second and the time left', () => {
    expect(progressLine('case_list', { position: 500, head: 1000, eventsRead: 500, eventsPerSecond: 52_340.4, etaSeconds: 9.5 })).toBe(
      'case_list [###############---------------]  50%  500 events  52,340 ev/s  ETA 10s',
    );
    expect(progressLine('case_list', { position: 0, head: 0, eventsRead: 0, eventsPerSecond: 0 })).toBe(
      `case_list [${'#'.repeat(30)}] 100%  0 events  0 ev/s  ETA -`,
    );
  });
});
