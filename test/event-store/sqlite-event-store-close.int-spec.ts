import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// close() after a busy run must settle on its own. Run in a plain Node
// process: under Jest the runner's own handles keep the event loop alive, so
// a close() that holds no handle would look fine here and still let a real
// process end silently, half-way through its work.

const support = join(__dirname, 'support');

function runChild(dir: string, appends: number, callers: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-r', join(support, 'register-ts.js'), join(support, 'busy-run-then-close.ts'), dir, String(appends), String(callers)],
      { timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

describe('SqliteEventStore close after a busy run', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aftersales-es-close-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('settles after 10,000 case-sized appends from 50 callers, in a process with nothing else to do', async () => {
    const { code, stdout, stderr } = await runChild(dir, 10_000, 50);

    expect(stderr).toBe('');
    expect(stdout).toBe('appended\nclosed\n');
    expect(code).toBe(0);
  }, 90_000);
});
