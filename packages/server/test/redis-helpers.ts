// A real redis-server (the Debian package) on a free loopback port, and `sdxs worker` processes, for the tests
// and the load bench.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  readonly url: string;
  stop(): Promise<void>;
}

/** redis-server with no persistence, answering PING before this resolves. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => child.on('error', (e) => reject(new Error(`cannot start redis-server (apt-get install redis-server): ${e.message}`))));
  const ready = (async () => {
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((resolve) => {
        const c = connect(port, '127.0.0.1');
        c.on('connect', () => c.write('PING\r\n'));
        c.on('data', (d) => {
          c.destroy();
          resolve(d.toString().startsWith('+PONG'));
        });
        c.on('error', () => resolve(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server on port ${port} did not answer PING`);
  })();
  await Promise.race([ready, failed]);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves when the worker is taking jobs. */
  readonly ready: Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `sdxs worker` as its own process (the way a deployment runs it). */
export function startWorker(url: string, args: readonly string[] = []): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', `${REPO_ROOT}packages/cli/src/main.ts`, 'worker', '--queue', url, ...args], { cwd: REPO_ROOT, env: { ...process.env, HF_HUB_OFFLINE: '1' } });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const check = () => {
      if (out.includes('sdxs worker: running')) resolve();
      else if (child.exitCode !== null) reject(new Error(`sdxs worker exited: ${out}`));
      else setTimeout(check, 50);
    };
    check();
  });
  return {
    child,
    output: () => out,
    ready,
    stop: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
