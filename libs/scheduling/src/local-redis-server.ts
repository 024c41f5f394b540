import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/**
 * Runs redis-server and stops it when its parent goes, however it goes: a
 * SIGTERM or SIGINT is passed on, and a parent that vanished (SIGKILL, a
 * crash: this process is re-parented) is noticed within half a second.
 * Node cannot ask the kernel for a parent-death signal, hence this small
 * watchdog between the service and redis-server.
 */
const WATCHDOG = `
const { spawn } = require('node:child_process');
const [binary, ...args] = process.argv.slice(1);
const parent = process.ppid;
const redis = spawn(binary, args, { stdio: 'ignore' });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  redis.kill('SIGTERM');
  setTimeout(() => redis.kill('SIGKILL'), 5000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
redis.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
setInterval(() => { if (process.ppid !== parent) stop(); }, 500);
`;

/**
 * A redis-server owned by this process, for the embedded default (REDIS_URL
 * unset) and for tests that must not touch anybody else's Redis. It keeps an
 * append-only file under `dir`, so delayed jobs survive a restart of the
 * service the way they would with a production Redis.
 *
 * It dies with this process (see WATCHDOG), and one data folder never has
 * two: a start finds the folder's last owner and server in `owner.json`,
 * refuses while that owner still runs, and stops a server left behind.
 */
export class LocalRedisServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static isAvailable(binary = 'redis-server'): boolean {
    const probe = spawnSync(binary, ['--version'], { stdio: 'ignore' });
    return probe.status === 0;
  }

  static async start(options: { dir: string; port?: number; persistent?: boolean; binary?: string }): Promise<LocalRedisServer> {
    const binary = options.binary ?? 'redis-server';
    if (!LocalRedisServer.isAvailable(binary)) {
      throw new Error(
        'REDIS_URL is not set and no redis-server was found on PATH. Install it (Debian: apt-get install -y redis-server) or set REDIS_URL.',
      );
    }
    mkdirSync(options.dir, { recursive: true });
    await takeOverFolder(options.dir);
    const port = options.port ?? (await freePort());
    const persistence =
      options.persistent === false
        ? ['--save', '', '--appendonly', 'no']
        : ['--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'];
    const child = spawn(
      process.execPath,
      [
        '-e', WATCHDOG,
        binary,
        '--bind', '127.0.0.1',
        '--port', String(port),
        '--dir', options.dir,
        '--maxmemory-policy', 'noeviction',
        // A BullMQ job hash (opts and data are JSON of 150 to 250 B) then stays in the compact listpack encoding:
        // about 300 B less per pending job than the hashtable the default of 64 B gives. The ziplist name is the
        // one Redis 6 knows; Redis 7 takes it as an alias of hash-max-listpack-value.
        '--hash-max-ziplist-value', String(HASH_MAX_LISTPACK_VALUE),
        '--daemonize', 'no',
        '--logfile', join(options.dir, 'redis.log'),
        '--pidfile', join(options.dir, 'redis.pid'),
        ...persistence,
      ],
      { stdio: 'ignore' },
    );
    writeFileSync(join(options.dir, OWNER_FILE), JSON.stringify({ owner: process.pid }));
    const server = new LocalRedisServer(child, `redis://127.0.0.1:${port}`);
    await server.waitUntilListening(port);
    return server;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  private async waitUntilListening(port: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`redis-server exited with code ${this.child.exitCode} before listening`);
      if (await canConnect(port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    this.child.kill('SIGKILL');
    throw new Error(`redis-server did not listen on port ${port} within 10 s`);
  }
}

const OWNER_FILE = 'owner.json';

/** Longest hash field value kept in a listpack (README "Scaling out" gives the same advice for a production Redis). */
export const HASH_MAX_LISTPACK_VALUE = 512;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function isRedisServer(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server');
  } catch {
    // No /proc (macOS): trust the pid file only while the process lives.
    return alive(pid);
  }
}

/** Makes the data folder ours: refused while its last owner runs; a server that outlived its owner is stopped. */
async function takeOverFolder(dir: string): Promise<void> {
  const ownerFile = join(dir, OWNER_FILE);
  if (existsSync(ownerFile)) {
    const { owner } = JSON.parse(readFileSync(ownerFile, 'utf8')) as { owner?: number };
    if (owner !== undefined && owner !== process.pid && alive(owner)) {
      throw new Error(`${dir} is in use by the redis-server of process ${owner}; stop that service first (or give this one another SQLITE_PATH)`);
    }
  }
  const pidFile = join(dir, 'redis.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isRedisServer(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function canConnect(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
