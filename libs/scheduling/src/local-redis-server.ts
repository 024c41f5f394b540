import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/**
 * A redis-server owned by this process, for the embedded default (REDIS_URL
 * unset) and for tests that must not touch anybody else's Redis. It keeps an
 * append-only file under `dir`, so delayed jobs survive a restart of the
 * service the way they would with a production Redis.
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
    const port = options.port ?? (await freePort());
    const persistence =
      options.persistent === false
        ? ['--save', '', '--appendonly', 'no']
        : ['--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'];
    const child = spawn(
      binary,
      [
        '--bind', '127.0.0.1',
        '--port', String(port),
        '--dir', options.dir,
        '--maxmemory-policy', 'noeviction',
        '--daemonize', 'no',
        '--logfile', join(options.dir, 'redis.log'),
        ...persistence,
      ],
      { stdio: 'ignore' },
    );
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
