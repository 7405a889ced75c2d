import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { open, readFile, rename, stat, unlink, utimes } from 'node:fs/promises';
import { tempPath } from './cache-layout.js';

/** A held lock; `release` is safe to call twice. */
export interface FileLock {
  release(): Promise<void>;
}

export interface LockOptions {
  signal?: AbortSignal;
  /** A lock whose file has not been touched for this long is taken over (its holder died on another host or hung). */
  staleMs?: number;
  /** How often a waiter looks again. */
  pollMs?: number;
}

interface Owner {
  pid: number;
  host: string;
  token: string;
}

function isCode(e: unknown, code: string): boolean {
  return e instanceof Error && 'code' in e && e.code === code;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return !isCode(e, 'ESRCH');
  }
}

async function readOwner(path: string): Promise<Owner | undefined> {
  try {
    const data: unknown = JSON.parse(await readFile(path, 'utf8'));
    if (typeof data !== 'object' || data === null) return undefined;
    const { pid, host, token } = data as Record<string, unknown>;
    return typeof pid === 'number' && typeof host === 'string' && typeof token === 'string' ? { pid, host, token } : undefined;
  } catch {
    return undefined;
  }
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolvePromise();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Takes an exclusive lock by creating `path` (O_EXCL), waiting while another process (or another call in this
 * one) holds it. The holder touches the file periodically; a lock whose holder is gone (a dead pid on this host,
 * or a file untouched for `staleMs`) is taken over, so a killed download never blocks the next one.
 *
 * The lock only saves duplicate work: cache correctness does not depend on it (every blob is verified and
 * renamed into place atomically), as in huggingface_hub.
 *
 * @example
 * const lock = await acquireLock(cache.lockPath(repo, etag), { signal });
 * try { ... } finally { await lock.release(); }
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<FileLock> {
  const staleMs = options.staleMs ?? 30_000;
  const pollMs = options.pollMs ?? 50;
  const me: Owner = { pid: process.pid, host: hostname(), token: randomBytes(8).toString('hex') };
  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason;
    try {
      const handle = await open(path, 'wx', 0o664);
      try {
        await handle.writeFile(JSON.stringify(me));
      } finally {
        await handle.close();
      }
      return held(path, me, staleMs);
    } catch (e) {
      if (!isCode(e, 'EEXIST')) throw e;
    }
    if (await isStale(path, staleMs)) {
      // Move the stale file aside under a unique name (only one waiter's rename can succeed), then delete it.
      const aside = tempPath(path, '.stale');
      try {
        await rename(path, aside);
        await unlink(aside);
      } catch (e) {
        if (!isCode(e, 'ENOENT')) throw e;
      }
      continue;
    }
    await sleep(pollMs, options.signal);
  }
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(path)).mtimeMs;
  } catch (e) {
    if (isCode(e, 'ENOENT')) return false; // released meanwhile: just try again
    throw e;
  }
  if (Date.now() - mtimeMs > staleMs) return true;
  const owner = await readOwner(path);
  // An unreadable owner is a lock being written right now (or a crash between create and write: mtime ages it out).
  return owner !== undefined && owner.host === hostname() && owner.pid !== process.pid && !pidAlive(owner.pid);
}

function held(path: string, me: Owner, staleMs: number): FileLock {
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, Math.max(10, Math.floor(staleMs / 3)));
  heartbeat.unref();
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      // Delete the file only if it is still ours (it may have been taken over after a long stall).
      if ((await readOwner(path))?.token === me.token) await unlink(path).catch(() => undefined);
    },
  };
}
