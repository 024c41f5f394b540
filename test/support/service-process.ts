import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repositoryRoot = resolve(__dirname, '..', '..');

export interface RunningService {
  baseUrl: string;
  dataDir: string;
  process: ChildProcess;
  output(): string;
  /** Sends a signal and resolves with the exit code and how long the exit took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; elapsedMs: number }>;
  cleanup(): void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts the service exactly as `npm start` does, on its own data folder and port. */
export function spawnService(env: NodeJS.ProcessEnv, dataDir = mkdtempSync(join(tmpdir(), 'aftersales-e2e-'))): RunningService {
  let output = '';
  const child = spawn(process.execPath, [join(repositoryRoot, 'scripts', 'start.js')], {
    cwd: repositoryRoot,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: 'warn',
      SQLITE_PATH: join(dataDir, 'aftersales.db'),
      HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  return {
    baseUrl: `http://127.0.0.1:${env.PORT ?? '3000'}`,
    dataDir,
    process: child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      const started = Date.now();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      return { code, elapsedMs: Date.now() - started };
    },
    cleanup() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function waitForHealthy(service: RunningService, timeoutMs = 60_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (service.process.exitCode !== null) throw new Error(`service exited early:\n${service.output()}`);
    try {
      const response = await fetch(`${service.baseUrl}/health`);
      if (response.status === 200) return response;
      lastError = `status ${response.status}`;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`service not healthy within ${timeoutMs} ms (${lastError}):\n${service.output()}`);
}

export async function waitForExit(service: RunningService, timeoutMs = 30_000): Promise<number | null> {
  if (service.process.exitCode !== null) return service.process.exitCode;
  return new Promise((resolveExit, reject) => {
    const timer = setTimeout(() => reject(new Error(`service still running after ${timeoutMs} ms:\n${service.output()}`)), timeoutMs);
    service.process.once('exit', (code) => {
      clearTimeout(timer);
      resolveExit(code);
    });
  });
}
