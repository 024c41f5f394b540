import { UsageError } from '../token-command';
import { parseSeedArguments } from './seed-arguments';

describe('seed arguments', () => {
  it('defaults to 1000 cases over 90 days with seed 1, not appending', () => {
    expect(parseSeedArguments([])).toEqual({ cases: 1000, days: 90, seed: 1, append: false });
  });

  it('reads every option', () => {
    expect(parseSeedArguments(['--cases', '20', '--days=30', '--seed', '42', '--append'])).toEqual({ cases: 20, days: 30, seed: 42, append: true });
  });

  it('answers help', () => {
    expect(parseSeedArguments(['--help'])).toBe('help');
  });

  it.each([
    [['--cases', '0']],
    [['--cases', '1.5']],
    [['--cases', 'many']],
    [['--days', '-3']],
    [['--seed', '4294967296']],
    [['--unknown']],
    [['extra']],
  ])('refuses %j', (argv) => {
    expect(() => parseSeedArguments(argv)).toThrow(UsageError);
  });
});
