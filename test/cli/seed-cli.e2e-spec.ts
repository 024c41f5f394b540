import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// `npm run cli -- seed` as an operator runs it: scripts/cli.js (which
// compiles first when sources changed) on a data folder of its own.

const root = resolve(__dirname, '..', '..');

function cli(args: string[], sqlitePath: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, SQLITE_PATH: sqlitePath, EVENT_STORE: 'sqlite' };
  delete env.READ_STORE;
  return spawnSync(process.execPath, [join(root, 'scripts', 'cli.js'), ...args], { cwd: root, env, encoding: 'utf8', timeout: 240_000 });
}

describe('npm run cli -- seed', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'aftersales-seed-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('seeds 20 cases into an empty data folder, then refuses to seed it again without --append', () => {
    const path = join(dir, 'aftersales.db');
    const first = cli(['seed', '--cases', '20', '--days', '30'], path);
    expect({ status: first.status, stderr: first.status === 0 ? '' : first.stderr }).toEqual({ status: 0, stderr: '' });
    expect(first.stdout).toMatch(/^Seeded \d+ cases \(20 requests\)/);
    expect(first.stdout).toContain('Cases by kind and final status:');
    expect(first.stderr).toMatch(/seed: 20\/20 cases, [\d,]+ commands, [\d,]+ cases\/s/);

    const again = cli(['seed', '--cases', '5'], path);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already holds cases');
  }, 300_000);

  it('answers a bad option with the usage and exit code 2', () => {
    const bad = cli(['seed', '--cases', 'lots'], join(dir, 'unused.db'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--cases must be a whole number');
    expect(bad.stderr).toContain('Usage: npm run cli -- seed');
  }, 300_000);
});
