import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitForHealthy, type RunningService } from '../support/service-process';

jest.setTimeout(120_000);

const repositoryRoot = resolve(__dirname, '..', '..');

interface ProcessRow {
  pid: number;
  ppid: number;
  comm: string;
}

function processTable(): ProcessRow[] {
  return execFileSync('ps', ['-eo', 'pid=,ppid=,comm='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 3)
    .map(([pid, ppid, comm]) => ({ pid: Number(pid), ppid: Number(ppid), comm }));
}

/** Every process below `root`, at any depth (npm → sh → node → redis-server). */
function descendantsOf(root: number): ProcessRow[] {
  const table = processTable();
  const found: ProcessRow[] = [];
  let parents = new Set([root]);
  while (parents.size > 0) {
    const children = table.filter((row) => parents.has(row.ppid));
    found.push(...children);
    parents = new Set(children.map((row) => row.pid));
  }
  return found;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolveAnswer(true);
    });
    socket.once('error', () => resolveAnswer(false));
  });
}

async function waitUntil(condition: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return condition();
}

/** `npm start` exactly as a user, systemd or a process manager runs it, on its own folder and port. */
function npmStart(port: number, dataDir: string): RunningService {
  let output = '';
  const child: ChildProcess = spawn('npm', ['start'], {
    cwd: repositoryRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), SQLITE_PATH: join(dataDir, 'aftersales.db') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    dataDir,
    process: child,
    output: () => output,
    stop: () => Promise.reject(new Error('not used')),
    cleanup: () => undefined,
  };
}

describe('a signal to the process `npm start` created', () => {
  let dataDir: string;
  let started: ProcessRow[] = [];

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'aftersales-npm-start-'));
  });

  afterEach(() => {
    // Whatever the assertion found, leave nothing of ours running.
    for (const row of started) if (isAlive(row.pid)) process.kill(row.pid, 'SIGKILL');
    started = [];
    rmSync(dataDir, { recursive: true, force: true });
  });

  // SIGKILL cannot be relayed: the service notices that npm is gone and stops itself.
  it.each(['SIGTERM', 'SIGINT', 'SIGKILL'] as const)('%s stops node and its redis-server within 10 s and frees the port', async (signal) => {
    const port = await freePort();
    const npm = npmStart(port, dataDir);
    await waitForHealthy(npm, 90_000);

    // The service's node process (named `MainThread` by Node 24) and the redis-server it started.
    started = descendantsOf(npm.process.pid!);
    expect(started.map((row) => row.comm)).toEqual(expect.arrayContaining([expect.stringMatching(/^(node|MainThread)$/), 'redis-server']));

    process.kill(npm.process.pid!, signal);
    const stopped = await waitUntil(async () => started.every((row) => !isAlive(row.pid)) && !(await portAnswers(port)), 10_000);

    expect({ stopped, stillRunning: started.filter((row) => isAlive(row.pid)).map((row) => row.comm) }).toEqual({ stopped: true, stillRunning: [] });
    expect(await portAnswers(port)).toBe(false);
  });

  // A service killed outright (or crashing) cannot stop anything: its redis-server's watchdog notices and stops it.
  it('SIGKILL to the service itself takes its redis-server down too, and a new start on the folder is not blocked', async () => {
    const port = await freePort();
    const npm = npmStart(port, dataDir);
    await waitForHealthy(npm, 90_000);
    started = descendantsOf(npm.process.pid!);
    const service = started.find((row) => /^(node|MainThread)$/.test(row.comm) && started.some((child) => child.ppid === row.pid));
    const redis = started.filter((row) => row.comm === 'redis-server');
    expect(service).toBeDefined();
    expect(redis).toHaveLength(1);

    process.kill(service!.pid, 'SIGKILL');
    expect(await waitUntil(() => redis.every((row) => !isAlive(row.pid)), 5_000)).toBe(true);
    for (const row of started) if (isAlive(row.pid)) process.kill(row.pid, 'SIGKILL');

    // The folder is free again: a second start works and runs exactly one redis-server on it.
    const again = npmStart(await freePort(), dataDir);
    await waitForHealthy(again, 90_000);
    started = descendantsOf(again.process.pid!);
    expect(started.filter((row) => row.comm === 'redis-server')).toHaveLength(1);
    process.kill(again.process.pid!, 'SIGTERM');
    await waitUntil(() => started.every((row) => !isAlive(row.pid)), 10_000);
  });
});
