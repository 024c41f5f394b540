import { execFile } from 'node:child_process';
import { join } from 'node:path';

// Each case runs the guard in a plain Node process, as scripts/bench.js does:
// what matters is how that process ends.

function runGuarded(benchmark: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const source = `
    const { guardBenchmark } = require(${JSON.stringify(join(__dirname, 'bench-guard.js'))});
    guardBenchmark('example', () => { ${benchmark} });
  `;
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', source], { timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

describe('guardBenchmark', () => {
  it('fails a benchmark whose main promise never settles, naming the last thing it printed', async () => {
    const { code, stdout, stderr } = await runGuarded(`
      console.log('Warming up...');
      return new Promise(() => {});
    `);

    expect(code).toBe(1);
    expect(stdout).toBe('Warming up...\n');
    expect(stderr).toContain('bench:example DID NOT FINISH');
    expect(stderr).toContain('Last output: Warming up...');
  });

  it('leaves a finished benchmark alone', async () => {
    const { code, stderr } = await runGuarded(`
      return new Promise((resolve) => setTimeout(() => { console.log('| figures |'); resolve(); }, 10));
    `);

    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('fails a benchmark that rejects, with its error', async () => {
    const { code, stderr } = await runGuarded(`return Promise.reject(new Error('seeding read 3 events'));`);

    expect(code).toBe(1);
    expect(stderr).toContain('seeding read 3 events');
  });

  it('refuses a benchmark that does not export its run', async () => {
    const { code, stderr } = await runGuarded(`return undefined;`);

    expect(code).toBe(2);
    expect(stderr).toContain('must export `finished`');
  });

  it('keeps the exit code a finished benchmark chose', async () => {
    const { code } = await runGuarded(`process.exitCode = 1; return Promise.resolve();`);

    expect(code).toBe(1);
  });
});
