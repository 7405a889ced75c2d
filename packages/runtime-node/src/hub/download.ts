import { createHash, type Hash } from 'node:crypto';
import { lstat, mkdir, open, rename, stat, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FileMetadata } from './api.js';
import type { HubCache } from './cache-layout.js';
import { HubError, isTransient, messageOf } from './errors.js';
import { hubFetch, IdleDeadline, statusError, type HubClient } from './http.js';
import { acquireLock, sleep } from './lock.js';
import { formatBytes } from './progress.js';
import { checkRepoFilename } from './repo-id.js';

export interface FetchFileOptions {
  client: HubClient;
  cache: HubCache;
  repoId: string;
  commit: string;
  /** The repo path (checked: no `..`, absolute, drive or UNC names). */
  path: string;
  meta: FileMetadata;
  /** The git blob id the repo listing gave for this file: when it equals a 40-hex ETag, the content is checked against it too. */
  listedBlobId?: string | undefined;
  /** Bytes of this file on disk so far; may go down when a resume is answered with the whole file. */
  onBytes?: ((bytes: number) => void) | undefined;
  /** Retries after a network error or timeout that brought no new bytes (default 3); progress resets the count. */
  retries?: number | undefined;
  /** See {@link acquireLock}. */
  lockStaleMs?: number | undefined;
}

const HASH_CHUNK = 1 << 20;

function errnoCode(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

function isDiskFull(e: unknown): boolean {
  const code = errnoCode(e);
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG';
}

/** How a blob's content is checked: the LFS sha256, a git blob id, or (any other ETag) its size alone. */
function digestFor(etag: string, size: number, listedBlobId: string | undefined): { hash: () => Hash; expected: string; kind: string } | undefined {
  if (/^[0-9a-f]{64}$/.test(etag)) return { hash: () => createHash('sha256'), expected: etag, kind: 'sha256' };
  // A git blob id is sha1("blob <size>\0" + content). Only trusted as such when the listing agrees it is one.
  if (/^[0-9a-f]{40}$/.test(etag) && listedBlobId === etag) {
    return { hash: () => createHash('sha1').update(`blob ${size}\0`), expected: etag, kind: 'git blob sha1' };
  }
  return undefined;
}

async function isCompleteBlob(path: string, size: number): Promise<boolean> {
  try {
    const s = await stat(path);
    return s.isFile() && s.size === size;
  } catch {
    return false;
  }
}

/**
 * Makes `file` of `commit` present in the cache: reuses `blobs/<etag>` when another revision (or Python)
 * already fetched it, else downloads it under a per-blob lock into `blobs/<etag>.incomplete` (resuming what
 * an interrupted run left there), checks size and hash while streaming, and renames it into place — so a blob
 * is either complete and verified or absent. Returns the snapshot path (a relative symlink to the blob).
 *
 * @example
 * const meta = await fetchFileMetadata(client, repo, commit, 'unet/config.json');
 * await fetchFileToCache({ client, cache, repoId: repo, commit, path: 'unet/config.json', meta });
 */
export async function fetchFileToCache(o: FetchFileOptions): Promise<string> {
  const { cache, repoId, commit, meta } = o;
  const path = checkRepoFilename(o.path);
  const blob = cache.blobPath(repoId, meta.etag);
  if (!(await isCompleteBlob(blob, meta.size))) {
    const lockPath = cache.lockPath(repoId, meta.etag);
    await mkdir(dirname(blob), { recursive: true });
    await mkdir(dirname(lockPath), { recursive: true });
    const lock = await acquireLock(lockPath, { signal: o.client.signal, staleMs: o.lockStaleMs });
    try {
      // Another process may have finished it while we waited.
      if (!(await isCompleteBlob(blob, meta.size))) await downloadBlob(o, path, blob);
    } finally {
      await lock.release();
    }
  }
  return cache.linkBlob(repoId, commit, path, meta.etag);
}

/** Mutable state of one blob download, shared across its retries. */
interface Transfer {
  handle: FileHandle;
  pos: number;
  hash: Hash | undefined;
}

async function downloadBlob(o: FetchFileOptions, path: string, blob: string): Promise<void> {
  const partial = `${blob}.incomplete`;
  const digest = digestFor(o.meta.etag, o.meta.size, o.listedBlobId);
  let mayRestart = true;
  for (;;) {
    const resumedFrom = await usablePartialSize(partial, o.meta.size);
    await checkDiskSpace(dirname(blob), o.meta.size - resumedFrom, path);
    let handle: FileHandle;
    try {
      handle = await open(partial, resumedFrom > 0 ? 'r+' : 'w');
    } catch (e) {
      throw isDiskFull(e) ? diskFull(path, e) : e;
    }
    const t: Transfer = { handle, pos: 0, hash: digest?.hash() };
    let ok = false;
    try {
      await hashPrefix(t, resumedFrom, o.client.signal);
      o.onBytes?.(t.pos);
      await transferAll(o, path, t);
      await handle.datasync();
      ok = true;
    } catch (e) {
      await handle.close().catch(() => undefined);
      // A partial file is kept for resuming after an abort, a timeout or a network error; bytes known bad are not.
      if (isDiskFull(e) || (e instanceof HubError && (e.code === 'integrity' || e.code === 'disk-full'))) await unlink(partial).catch(() => undefined);
      throw isDiskFull(e) ? diskFull(path, e) : e;
    } finally {
      if (ok) await handle.close();
    }
    const actual = t.hash?.digest('hex');
    if (digest === undefined || actual === digest.expected) break;
    await unlink(partial).catch(() => undefined);
    // Bytes left by an earlier run may be what is wrong: start once from nothing before blaming the server.
    if (resumedFrom > 0 && mayRestart) {
      mayRestart = false;
      continue;
    }
    throw new HubError('integrity', `${o.repoId}/${path}: ${digest.kind} is ${actual ?? '?'} but the hub promised ${digest.expected}; nothing was saved`);
  }
  await rename(partial, blob);
}

/** The size of a leftover partial file that can be resumed, 0 when there is none (anything unusable is removed). */
async function usablePartialSize(partial: string, size: number): Promise<number> {
  try {
    const s = await lstat(partial);
    if (s.isFile() && s.size <= size) return s.size;
    await unlink(partial);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
  return 0;
}

async function checkDiskSpace(dir: string, needed: number, path: string): Promise<void> {
  let free: number;
  try {
    const s = await statfs(dir);
    free = s.bavail * s.bsize;
  } catch {
    return; // Cannot tell (some network file systems): find out while writing.
  }
  if (free < needed) {
    throw new HubError('disk-full', `${path}: not enough disk space in ${dir}: it needs ${formatBytes(needed)}, ${formatBytes(free)} is free`);
  }
}

function diskFull(path: string, cause: unknown): HubError {
  return new HubError('disk-full', `${path}: the disk is full (${messageOf(cause)}); the partial download was removed`, { cause });
}

/** Feeds the first `length` bytes of the partial file to the hash, so a resumed download is checked whole. */
async function hashPrefix(t: Transfer, length: number, signal: AbortSignal | undefined): Promise<void> {
  const buf = new Uint8Array(Math.min(HASH_CHUNK, Math.max(1, length)));
  while (t.pos < length) {
    if (signal?.aborted) throw signal.reason;
    const { bytesRead } = await t.handle.read(buf, 0, Math.min(buf.length, length - t.pos), t.pos);
    if (bytesRead === 0) break;
    t.hash?.update(buf.subarray(0, bytesRead));
    t.pos += bytesRead;
  }
}

async function restart(t: Transfer, o: FetchFileOptions): Promise<void> {
  await t.handle.truncate(0);
  t.pos = 0;
  t.hash = digestFor(o.meta.etag, o.meta.size, o.listedBlobId)?.hash();
  o.onBytes?.(0);
}

/**
 * GETs until the file is whole, resuming with Range after transient failures. Only bytes past the furthest
 * point reached count as progress, so a server that keeps failing at the same place gives up after `retries`.
 */
async function transferAll(o: FetchFileOptions, path: string, t: Transfer): Promise<void> {
  const retries = o.retries ?? 3;
  let quiet = 0;
  let furthest = t.pos;
  while (t.pos < o.meta.size) {
    let failure: unknown;
    try {
      await getOnce(o, path, t);
    } catch (e) {
      if (!isTransient(e) || o.client.signal?.aborted) throw e;
      failure = e;
    }
    if (t.pos >= o.meta.size) break;
    quiet = t.pos > furthest ? 0 : quiet + 1;
    furthest = Math.max(furthest, t.pos);
    if (quiet > retries) throw failure ?? new HubError('network', `${o.repoId}/${path}: the server cannot resume the download at byte ${t.pos}`);
    if (failure !== undefined) await sleep(Math.min(2000, 100 * 2 ** quiet), o.client.signal);
  }
}

/** One GET from `t.pos` on: a 206 appends, a 200 restarts the file (the server ignored Range), more bytes than promised is an error. */
async function getOnce(o: FetchFileOptions, path: string, t: Transfer): Promise<void> {
  const size = o.meta.size;
  const what = `${o.repoId}/${path}`;
  const deadline = new IdleDeadline(o.client.timeoutMs, o.client.signal);
  try {
    const headers: Record<string, string> = t.pos > 0 ? { range: `bytes=${t.pos}-` } : {};
    const { response } = await hubFetch(o.client, { method: 'GET', url: o.meta.url, headers, followAbsolute: true, deadline });
    if (response.status === 206) {
      const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
      if (range?.[1] === undefined || Number(range[1]) !== t.pos) {
        await response.body?.cancel().catch(() => undefined);
        await restart(t, o);
        return;
      }
    } else if (response.status === 200) {
      if (t.pos > 0) await restart(t, o);
    } else if (response.status === 416 && t.pos > 0) {
      await response.body?.cancel().catch(() => undefined);
      await restart(t, o);
      return;
    } else {
      await response.body?.cancel().catch(() => undefined);
      throw statusError(response, what);
    }
    if (!response.body) throw new HubError('network', `${what}: empty response`);
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        deadline.touch();
        if (t.pos + value.length > size) {
          throw new HubError('integrity', `${what}: the server sent more than the ${size} bytes the hub promised; nothing was saved`);
        }
        let written = 0;
        while (written < value.length) {
          const { bytesWritten } = await t.handle.write(value, written, value.length - written, t.pos + written);
          written += bytesWritten;
        }
        t.hash?.update(value);
        t.pos += value.length;
        o.onBytes?.(t.pos);
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
    if (t.pos < size) throw new HubError('network', `${what}: the connection ended after ${t.pos} of ${size} bytes`);
  } catch (e) {
    // File system errors (disk full, EIO) are not the network's: pass them on as they are, never retried.
    throw e instanceof Error && 'syscall' in e ? e : deadline.explain(e, `GET ${what}`);
  } finally {
    deadline.clear();
  }
}
