import { KeyedLock } from './keyed-lock';

describe('KeyedLock', () => {
  it('runs work for one key one at a time, in arrival order, and other keys alongside', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    let releaseFirst!: () => void;
    const first = lock.run('o1', async () => {
      log.push('o1:first:start');
      await new Promise<void>((resolve) => (releaseFirst = resolve));
      log.push('o1:first:end');
    });
    const second = lock.run('o1', async () => log.push('o1:second'));
    const other = lock.run('o2', async () => log.push('o2'));
    await other;
    expect(log).toEqual(['o1:first:start', 'o2']);
    releaseFirst();
    await Promise.all([first, second]);
    expect(log).toEqual(['o1:first:start', 'o2', 'o1:first:end', 'o1:second']);
  });

  it('lets the next caller in after a failure', async () => {
    const lock = new KeyedLock();
    await expect(lock.run('k', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(lock.run('k', async () => 'ok')).resolves.toBe('ok');
  });
});
