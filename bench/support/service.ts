import { readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

// Compiled to dist/bench/support/, so the repository is three levels up.
export const repositoryRoot = resolve(__dirname, '..', '..', '..');

export interface ChildServer {
  baseUrl: string;
  port: number;
  process: ChildProcess;
  output(): string;
  /** SIGTERM, then the exit code once the process is gone (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
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

function spawnChild(args: string[], env: NodeJS.ProcessEnv, port: number): ChildServer {
  let output = '';
  const child = spawn(process.execPath, args, {
    cwd: repositoryRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Keep only the tail: a long run at LOG_LEVEL=warn should print little, but never grow without bound.
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    process: child,
    output: () => output,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * The service exactly as `npm start` runs it (`node <its flags> scripts/start.js`,
 * flags read from package.json), with `env` on top of PATH and HOME only;
 * `nodeOptions` go before the script too (Node refuses --cpu-prof in NODE_OPTIONS).
 */
export async function startService(env: NodeJS.ProcessEnv, nodeOptions: string[] = []): Promise<ChildServer> {
  const port = await freePort();
  return spawnChild([...npmStartNodeFlags(), ...nodeOptions, join(repositoryRoot, 'scripts', 'start.js')], { HOST: '127.0.0.1', ...env }, port);
}

/**
 * One role's own entry (`dist/apps/<role>/src/main.js`, as README "Scaling
 * out" runs it) with `npm start`'s Node flags: the API alone, say, when a
 * figure is about that role's capacity rather than the one-process default.
 */
export async function startRole(role: 'api', env: NodeJS.ProcessEnv, nodeOptions: string[] = []): Promise<ChildServer> {
  const port = await freePort();
  const entry = join(repositoryRoot, 'dist', 'apps', role, 'src', 'main.js');
  return spawnChild([...npmStartNodeFlags(), ...nodeOptions, '-r', join(repositoryRoot, 'scripts', 'register-aliases.js'), entry], { HOST: '127.0.0.1', ...env }, port);
}

/** The Node flags of package.json's `start` script (`node --flag … scripts/start.js`). */
export function npmStartNodeFlags(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')) as { scripts: { start: string } };
  // `exec node …` in the script is the same command to us.
  const words = scripts.start.replace(/^exec\s+/, '').split(/\s+/);
  if (words[0] !== 'node' || words.at(-1) !== 'scripts/start.js') throw new Error(`Unexpected start script: ${scripts.start}`);
  return words.slice(1, -1);
}

/** A compiled script of dist/ in its own process, with the `@aftersales/*` aliases. */
export async function startScript(distPath: string, env: NodeJS.ProcessEnv = {}): Promise<ChildServer> {
  const port = await freePort();
  return spawnChild(['-r', join(repositoryRoot, 'scripts', 'register-aliases.js'), join(repositoryRoot, 'dist', distPath)], env, port);
}

/** Polls `path` until it answers 200. */
export async function waitForReady(server: ChildServer, path: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (server.process.exitCode !== null) throw new Error(`process exited early:\n${server.output()}`);
    try {
      const response = await fetch(`${server.baseUrl}${path}`);
      await response.arrayBuffer();
      if (response.status === 200) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready within ${timeoutMs} ms (${last}):\n${server.output()}`);
}

/** Waits until the process has printed something matching `pattern`. */
export async function waitForOutput(server: ChildServer, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(server.output())) {
    if (server.process.exitCode !== null) throw new Error(`process exited early:\n${server.output()}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
