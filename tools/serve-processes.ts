// A real redis-server (the Debian package) on a free loopback port, and `sdxs serve`/`sdxs worker` processes, for the tests
// and the load bench.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

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

export interface CliProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves when the process printed its ready line (serve: with the URL it listens on). */
  readonly ready: Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** An `sdxs` command as its own process (the way a deployment runs it), ready when `readyLine` matches its output. */
export function startCli(args: readonly string[], readyLine: RegExp): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', `${REPO_ROOT}packages/cli/src/main.ts`, ...args], { cwd: REPO_ROOT, env: { ...process.env, HF_HUB_OFFLINE: '1' } });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = readyLine.exec(out);
      if (m) resolve(m[1] ?? m[0]);
      else if (child.exitCode !== null) reject(new Error(`sdxs ${args[0]} exited: ${out}`));
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

/** `sdxs worker --queue url …`. */
export function startWorker(url: string, args: readonly string[] = []): CliProcess {
  return startCli(['worker', '--queue', url, ...args], /sdxs worker: running/);
}

/** `sdxs serve --port 0 …`; `ready` resolves to its base URL. */
export function startServe(args: readonly string[] = []): CliProcess {
  return startCli(['serve', '--port', '0', ...args], /listening on (http:\/\/[^ ]+)/);
}
