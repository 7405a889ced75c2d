import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultGraphCacheDir } from './cache-dir.js';
import { HEADER_BYTES, decodeEntry, entryHeader } from './entry-format.js';

export interface DiskGraphCacheOptions {
  /** The cache folder (default {@link defaultGraphCacheDir}); created on the first `put`. */
  dir?: string;
  /** Told when a damaged entry is found and dropped. Nothing is printed otherwise. */
  onWarning?: (message: string) => void;
}

/**
 * A cache key is a hex hash (32–128 digits), optionally after a lower-case kind and '-', as @sdxs/pipeline's
 * `graphKey` makes (`one-step-3f9c…`). Nothing else is accepted, so a key can never name a path: no separators,
 * no dots, no drive letters.
 */
const KEY = /^(?:[a-z0-9][a-z0-9-]{0,63}-)?[0-9a-f]{32,128}$/;
const SUFFIX = '.graph';
// Temporary files older than this are leftovers of a process killed mid-write.
const STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * Built graphs on disk (the pipeline's GraphCache, for Node): one file per key, written atomically (a private
 * temporary file is written, fsynced and renamed over the entry), so readers and concurrent writers only ever
 * see a complete entry. Each entry carries its length and sha256; a truncated or damaged one reads as missing
 * (and is deleted), so the caller rebuilds and puts it again.
 *
 * @example
 * const cache = new DiskGraphCache(); // ~/.cache/sdxs/graphs
 * const bytes = (await cache.get(key)) ?? (await build(key));
 */
export class DiskGraphCache {
  readonly dir: string;
  readonly #onWarning: ((message: string) => void) | undefined;
  #sweptTemps = false;

  constructor(options: DiskGraphCacheOptions = {}) {
    this.dir = options.dir ?? defaultGraphCacheDir();
    this.#onWarning = options.onWarning;
  }

  /** The file holding `key`'s entry. Throws a TypeError for anything that is not a cache key. */
  entryPath(key: string): string {
    if (typeof key !== 'string' || !KEY.test(key)) {
      throw new TypeError(`DiskGraphCache: ${JSON.stringify(key)} is not a cache key (a hex hash, optionally after a lower-case kind and '-')`);
    }
    return join(this.dir, key + SUFFIX);
  }

  /** The bytes stored under `key`, or undefined when there are none or the entry is damaged. */
  async get(key: string): Promise<Uint8Array | undefined> {
    const path = this.entryPath(key);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      if (errorCode(e) === 'ENOENT') return undefined;
      throw new Error(`DiskGraphCache: cannot read ${path}: ${errorMessage(e)}`, { cause: e });
    }
    let file: Uint8Array;
    let identity: { dev: number; ino: number };
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new Error(`DiskGraphCache: ${path} is not a regular file`);
      identity = { dev: stat.dev, ino: stat.ino };
      file = await handle.readFile();
    } finally {
      await handle.close();
    }
    const entry = decodeEntry(file);
    if ('payload' in entry) return entry.payload;
    this.#onWarning?.(`DiskGraphCache: dropping damaged entry ${path} (${entry.problem}); it will be rebuilt`);
    await removeIfSame(path, identity);
    return undefined;
  }

  /** Store `bytes` under `key`, replacing what was there. Rejects (leaving no partial file) when the disk refuses. */
  async put(key: string, bytes: Uint8Array): Promise<void> {
    const path = this.entryPath(key);
    await mkdir(this.dir, { recursive: true });
    if (!this.#sweptTemps) {
      this.#sweptTemps = true;
      await this.#removeStaleTemps();
    }
    const temp = join(this.dir, `.${key}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    let handle: FileHandle | undefined;
    try {
      handle = await open(temp, 'wx');
      await writeFully(handle, entryHeader(bytes), 0);
      await writeFully(handle, bytes, HEADER_BYTES);
      await handle.sync();
      await handle.close();
      handle = undefined;
      // rename is atomic within a folder: the entry is the old file or the new one, never a mix.
      await rename(temp, path);
    } catch (e) {
      await handle?.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw new Error(`DiskGraphCache: cannot write ${path}: ${errorMessage(e)}`, { cause: e });
    }
    await syncDir(this.dir);
  }

  async #removeStaleTemps(): Promise<void> {
    const now = Date.now();
    for (const name of await readdir(this.dir).catch(() => [])) {
      if (!name.startsWith('.') || !name.endsWith('.tmp')) continue;
      const path = join(this.dir, name);
      const stat = await lstat(path).catch(() => undefined);
      if (stat?.isFile() && now - stat.mtimeMs > STALE_TEMP_MS) await unlink(path).catch(() => undefined);
    }
  }
}

async function writeFully(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    // Node refuses single writes over 2 GiB; graphs are far smaller, but stay correct.
    const { bytesWritten } = await handle.write(bytes, done, Math.min(bytes.length - done, 1 << 30), position + done);
    if (bytesWritten === 0) throw new Error(`wrote nothing at ${position + done}`);
    done += bytesWritten;
  }
}

/** Unlink `path` only if it is still the file that was read: a writer may have renamed a good entry over it since. */
async function removeIfSame(path: string, identity: { dev: number; ino: number }): Promise<void> {
  const now = await lstat(path).catch(() => undefined);
  if (now && now.dev === identity.dev && now.ino === identity.ino) await unlink(path).catch(() => undefined);
}

/** Make the rename durable (the folder's entry list reaches the disk). Not every platform can open a folder. */
async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Windows cannot fsync a directory; the rename itself is still atomic.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function errorCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
