import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repositoryRoot } from './service';

export interface CliSeedResult {
  seconds: number;
  /** The seed's summary (stdout), whole. */
  summary: string;
}

/**
 * `npm run cli -- seed --cases N --days D` on the SQLite file `sqlitePath`,
 * run from dist/ as scripts/cli.js runs it (without its build check: the
 * benchmark was compiled just before). The seed's progress lines (stderr,
 * one a second) are passed to `progress` every `progressEverySeconds`.
 */
export async function runCliSeed(
  sqlitePath: string,
  options: { cases: number; days: number },
  progress: (line: string) => void,
  progressEverySeconds = 15,
): Promise<CliSeedResult> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      '-r',
      join(repositoryRoot, 'scripts', 'register-aliases.js'),
      join(repositoryRoot, 'dist', 'apps', 'cli', 'src', 'cli.js'),
      'seed',
      '--cases',
      String(options.cases),
      '--days',
      String(options.days),
    ],
    { cwd: repositoryRoot, env: { PATH: process.env.PATH, HOME: process.env.HOME, SQLITE_PATH: sqlitePath, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderrTail = '';
  let lastProgress = 0;
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-5000);
    const lines = chunk.toString().split('\n').filter((l) => l.startsWith('seed: '));
    if (lines.length > 0 && performance.now() - lastProgress > progressEverySeconds * 1000) {
      lastProgress = performance.now();
      progress(lines[lines.length - 1]);
    }
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`seed exited with ${code}:\n${stderrTail}\n${stdout.slice(-2000)}`);
  return { seconds: (performance.now() - started) / 1000, summary: stdout };
}
