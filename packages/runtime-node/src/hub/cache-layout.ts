import { randomBytes } from 'node:crypto';
import { copyFile, lstat, mkdir, readdir, readFile, readlink, rename, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { resolveInside } from '../sources/safe-path.js';
import { HubError } from './errors.js';
import { checkCommit, checkRepoFilename, checkRevision, isCommitHash, repoFolderName } from './repo-id.js';

/** One file of a commit's listing, as huggingface_hub's `trees/<commit>.json` records it. */
export interface TreeEntry {
  size: number;
  /** The git blob id (for an LFS file: of its pointer). */
  blob_id: string;
  lfs_sha256?: string;
  lfs_size?: number;
}

// huggingface_hub writes this tag so that backup tools skip the cache (bford.info/cachedir).
const CACHEDIR_TAG =
  'Signature: 8a477f597d28d172789f06886806bc55\n' +
  '# This file is a cache directory tag created by huggingface_hub.\n' +
  '# For information about cache directory tags, see:\n' +
  '#\thttps://bford.info/cachedir/\n';

// Blob names come from the server's ETag: keep them to plain file-name characters (an ETag of '../x' must
// not become a path). Real hub ETags are a 64-hex sha256 (LFS) or a 40-hex git blob id.
const ETAG = /^[A-Za-z0-9_-]{1,128}$/;

function isMissing(e: unknown): boolean {
  return e instanceof Error && 'code' in e && (e.code === 'ENOENT' || e.code === 'ENOTDIR');
}

/** A unique temporary name beside `path`, for write-then-rename. */
export function tempPath(path: string, suffix = '.tmp'): string {
  return `${path}.${process.pid}-${randomBytes(4).toString('hex')}${suffix}`;
}

/** Writes `data` to `path` atomically: readers see the old file or the new one, never a part. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = tempPath(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/**
 * The Hugging Face hub cache layout, shared with Python's huggingface_hub (file_download.py):
 * ```
 * <root>/models--OWNER--NAME/
 *   blobs/<etag>                        file contents, named by sha256 (LFS) or git blob id
 *   refs/<revision>                     the commit a branch or tag pointed to
 *   snapshots/<commit>/<path>           relative symlinks into blobs/
 *   trees/<commit>.json                 the commit's full file listing (tells whether a snapshot is complete)
 * <root>/.locks/models--OWNER--NAME/    lock files of downloads in progress
 * ```
 *
 * @example
 * const cache = new HubCache(hubEnv().cacheDir);
 * const commit = await cache.resolveCommit('IDKiro/sdxs-512-dreamshaper', 'main');
 */
export class HubCache {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** `<root>/models--OWNER--NAME`. */
  repoDir(repoId: string): string {
    return join(this.root, repoFolderName(repoId));
  }

  snapshotDir(repoId: string, commit: string): string {
    return join(this.repoDir(repoId), 'snapshots', checkCommit(commit));
  }

  /** Where a repo file of a commit lives in the snapshot (a symlink into `blobs/`). */
  filePath(repoId: string, commit: string, file: string): string {
    return resolveInside(this.snapshotDir(repoId, commit), checkRepoFilename(file));
  }

  blobPath(repoId: string, etag: string): string {
    if (!ETAG.test(etag)) throw new HubError('unsafe-path', `refusing ETag ${JSON.stringify(etag)} as a blob name`);
    return join(this.repoDir(repoId), 'blobs', etag);
  }

  /** The lock a download of one blob holds. Not huggingface_hub's `<etag>.lock` (a flock we cannot take from Node). */
  lockPath(repoId: string, etag: string): string {
    this.blobPath(repoId, etag);
    return join(this.root, '.locks', repoFolderName(repoId), `${etag}.sdxs.lock`);
  }

  refPath(repoId: string, revision: string): string {
    return resolveInside(join(this.repoDir(repoId), 'refs'), checkRevision(revision));
  }

  /** The commit `refs/<revision>` records, or undefined when there is none (or it is not a commit hash). */
  async readRef(repoId: string, revision: string): Promise<string | undefined> {
    try {
      const commit = (await readFile(this.refPath(repoId, revision), 'utf8')).trim();
      return isCommitHash(commit) ? commit : undefined;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  /** Records that `revision` points at `commit` (atomically; nothing to do for a commit hash). */
  async writeRef(repoId: string, revision: string, commit: string): Promise<void> {
    checkCommit(commit);
    if (revision === commit || (await this.readRef(repoId, revision)) === commit) return;
    const path = this.refPath(repoId, revision);
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, commit);
  }

  /** The commit for `revision`: itself when it is a commit hash, else what `refs/` recorded. */
  async resolveCommit(repoId: string, revision: string): Promise<string | undefined> {
    return isCommitHash(revision) ? revision : this.readRef(repoId, revision);
  }

  /** True when the snapshot holds `file` and it resolves to a regular file (a dangling symlink does not count). */
  async hasFile(repoId: string, commit: string, file: string): Promise<boolean> {
    try {
      return (await stat(this.filePath(repoId, commit, file))).isFile();
    } catch (e) {
      if (isMissing(e)) return false;
      throw e;
    }
  }

  async hasSnapshot(repoId: string, commit: string): Promise<boolean> {
    try {
      return (await stat(this.snapshotDir(repoId, commit))).isDirectory();
    } catch (e) {
      if (isMissing(e)) return false;
      throw e;
    }
  }

  /** Every file in a snapshot folder, as '/'-separated repo paths. */
  async snapshotFiles(repoId: string, commit: string): Promise<string[]> {
    const root = this.snapshotDir(repoId, commit);
    const out: string[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if (isMissing(e)) return;
        throw e;
      }
      for (const entry of entries) {
        const name = prefix ? `${prefix}/${entry.name}` : entry.name;
        if (entry.isDirectory()) await walk(join(dir, entry.name), name);
        else if (await this.hasFile(repoId, commit, name)) out.push(name);
      }
    };
    await walk(root, '');
    return out.sort();
  }

  /**
   * Points `snapshots/<commit>/<file>` at `blobs/<etag>` with a relative symlink, as huggingface_hub does (so the
   * cache survives being moved). The link is made under a temporary name and renamed over the old one, so a
   * reader never finds the path missing. Where symlinks are not allowed (Windows without developer mode) the
   * blob is copied instead.
   */
  async linkBlob(repoId: string, commit: string, file: string, etag: string): Promise<string> {
    const blob = this.blobPath(repoId, etag);
    const pointer = this.filePath(repoId, commit, file);
    await mkdir(dirname(pointer), { recursive: true });
    const target = relative(dirname(pointer), blob);
    try {
      if ((await readlink(pointer)) === target) return pointer;
    } catch {
      // Not a symlink yet (or not there): make it.
    }
    const tmp = tempPath(pointer);
    try {
      try {
        await symlink(target, tmp);
      } catch (e) {
        if (!(e instanceof Error && 'code' in e && (e.code === 'EPERM' || e.code === 'EACCES'))) throw e;
        await copyFile(blob, tmp);
      }
      await rename(tmp, pointer);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    return pointer;
  }

  /** The commit's listing from `trees/<commit>.json` (written by huggingface_hub ≥ 1.x or by sdxs), if any. */
  async readTree(repoId: string, commit: string): Promise<Map<string, TreeEntry> | undefined> {
    let data: unknown;
    try {
      data = JSON.parse(await readFile(join(this.repoDir(repoId), 'trees', `${checkCommit(commit)}.json`), 'utf8'));
    } catch (e) {
      // Missing, or unreadable/corrupt: as huggingface_hub does, behave as if it were not cached.
      if (isMissing(e) || e instanceof SyntaxError) return undefined;
      throw e;
    }
    if (typeof data !== 'object' || data === null || !('format_version' in data) || data.format_version !== 1) return undefined;
    const files = 'files' in data ? data.files : undefined;
    if (typeof files !== 'object' || files === null || Array.isArray(files)) return undefined;
    const out = new Map<string, TreeEntry>();
    for (const [path, info] of Object.entries(files)) {
      if (typeof info !== 'object' || info === null) return undefined;
      const size: unknown = 'size' in info ? info.size : undefined;
      const blobId: unknown = 'blob_id' in info ? info.blob_id : undefined;
      if (typeof size !== 'number' || typeof blobId !== 'string') return undefined;
      const entry: TreeEntry = { size, blob_id: blobId };
      if ('lfs_sha256' in info && typeof info.lfs_sha256 === 'string') entry.lfs_sha256 = info.lfs_sha256;
      if ('lfs_size' in info && typeof info.lfs_size === 'number') entry.lfs_size = info.lfs_size;
      out.set(path, entry);
    }
    return out;
  }

  /** Writes `trees/<commit>.json` in huggingface_hub's format (version 1), atomically. */
  async writeTree(repoId: string, commit: string, entries: ReadonlyMap<string, TreeEntry>): Promise<void> {
    const path = join(this.repoDir(repoId), 'trees', `${checkCommit(commit)}.json`);
    const files: Record<string, TreeEntry> = {};
    for (const name of [...entries.keys()].sort()) {
      const entry = entries.get(name);
      if (entry) files[name] = entry;
    }
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, JSON.stringify({ format_version: 1, files }, null, 1));
  }

  /** Creates `CACHEDIR.TAG` in the cache root if it is missing (best effort, like huggingface_hub). */
  async tagCacheDir(): Promise<void> {
    const path = join(this.root, 'CACHEDIR.TAG');
    try {
      await lstat(path);
    } catch {
      await mkdir(this.root, { recursive: true }).catch(() => undefined);
      await writeFile(path, CACHEDIR_TAG, { flag: 'wx' }).catch(() => undefined);
    }
  }
}
