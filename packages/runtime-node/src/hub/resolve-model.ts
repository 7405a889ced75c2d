import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { LocalFolderSource } from '../sources/local-folder.js';
import { fetchFileMetadata, fetchRevisionInfo, treeOf, type RepoSibling } from './api.js';
import { HubCache } from './cache-layout.js';
import { fetchFileToCache } from './download.js';
import { hubEnv } from './env.js';
import { HubError, isTransient, messageOf } from './errors.js';
import type { HubClient } from './http.js';
import { runPool } from './pool.js';
import { ProgressTracker, type DownloadProgressCallback } from './progress.js';
import { checkRepoId, checkRevision, isCommitHash, isRepoId, isSafeRepoFilename } from './repo-id.js';
import { componentsOf, selectFiles, type FileSelectionOptions } from './select.js';

export interface ResolveModelOptions extends FileSelectionOptions {
  /** Branch, tag or commit hash (default `main`). */
  revision?: string;
  /** No request at all, only the cache (default: `HF_HUB_OFFLINE`). */
  offline?: boolean;
  onProgress?: DownloadProgressCallback;
  signal?: AbortSignal;
  /** Default: `HF_HUB_CACHE` and friends (see {@link hubEnv}). */
  cacheDir?: string;
  /** Default: `HF_ENDPOINT`, else https://huggingface.co. */
  endpoint?: string;
  /** Default: `HF_TOKEN`, else the `huggingface-cli login` token file. */
  token?: string;
  /** Milliseconds of silence before a request fails (default: `HF_HUB_DOWNLOAD_TIMEOUT` seconds, else 30 s). */
  timeoutMs?: number;
  /** Retries of a download that fails without progress (default 3). */
  retries?: number;
  /** Files fetched at once (default 4). */
  concurrency?: number;
  /** Environment to read the defaults from (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A snapshot of a repo in the cache, complete for the selected files. */
export interface Snapshot {
  repoId: string;
  revision: string;
  commit: string;
  /** `<cache>/models--OWNER--NAME/snapshots/<commit>`: a diffusers folder whose files are symlinks into `blobs/`. */
  dir: string;
  /** The selected repo files (all present). */
  files: string[];
  /** The ones this call fetched. */
  downloaded: string[];
}

interface Context {
  repoId: string;
  revision: string;
  cache: HubCache;
  client: HubClient;
  options: ResolveModelOptions;
}

/**
 * Makes a Hugging Face repo's pipeline files available in the hub cache and says where: the cached snapshot
 * when it is complete (offline or not: a commit hash whose listing is cached needs no request; a branch costs
 * one), otherwise what is missing is downloaded (resumable, verified, atomically committed). With
 * `HF_HUB_OFFLINE=1` (or `offline: true`) no request is made and a missing file is an error naming it.
 *
 * @example
 * const snap = await downloadSnapshot('IDKiro/sdxs-512-dreamshaper', { variant: 'fp16' });
 * console.log(snap.dir, snap.downloaded.length);
 */
export async function downloadSnapshot(repoId: string, options: ResolveModelOptions = {}): Promise<Snapshot> {
  const env = hubEnv(options.env ?? process.env);
  const ctx: Context = {
    repoId: checkRepoId(repoId),
    revision: checkRevision(options.revision ?? 'main'),
    cache: new HubCache(options.cacheDir ?? env.cacheDir),
    client: {
      endpoint: (options.endpoint ?? env.endpoint).replace(/\/+$/, ''),
      token: options.token ?? env.token,
      timeoutMs: options.timeoutMs ?? env.timeoutMs,
      signal: options.signal,
    },
    options,
  };
  if (options.offline ?? env.offline) return fromCache(ctx, 'offline mode is on (HF_HUB_OFFLINE)', false);
  if (isCommitHash(ctx.revision)) {
    // A commit never changes: with its listing cached and every selected file present, ask nothing.
    const cached = await fromCache(ctx, '', true).catch((e: unknown) => {
      if (e instanceof HubError && e.code === 'offline-missing') return undefined;
      throw e;
    });
    if (cached) return cached;
  }
  let info;
  try {
    info = await fetchRevisionInfo(ctx.client, ctx.repoId, ctx.revision);
  } catch (e) {
    // Like huggingface_hub: when the hub cannot be reached (not when it says no), fall back to the cache.
    if (isTransient(e) || (e instanceof HubError && e.code === 'http' && (e.status ?? 0) >= 500)) {
      return fromCache(ctx, `the hub could not be reached (${messageOf(e)})`, false, e);
    }
    throw e;
  }
  return fetchMissing(ctx, info.sha, info.siblings);
}

async function fetchMissing(ctx: Context, commit: string, siblings: readonly RepoSibling[]): Promise<Snapshot> {
  const { cache, repoId, revision, options } = ctx;
  const names = siblings.map((s) => s.rfilename);
  const byName = new Map(siblings.map((s) => [s.rfilename, s]));
  await cache.tagCacheDir();
  await cache.writeRef(repoId, revision, commit);
  // The listing tells a later offline run whether the snapshot is complete (huggingface_hub reads it too).
  const tree = treeOf(siblings.filter((s) => isSafeRepoFilename(s.rfilename)));
  if (tree) await cache.writeTree(repoId, commit, tree);

  const downloaded: string[] = [];
  let components: Set<string> | undefined;
  if (!options.files && names.includes('model_index.json')) {
    // Only the components the pipeline lists are fetched, so read the (small) index first.
    downloaded.push(...(await ensureFiles(ctx, commit, ['model_index.json'], byName, undefined)));
    components = componentsOf(await readFile(cache.filePath(repoId, commit, 'model_index.json'), 'utf8'));
  }
  const files = selectFiles(names, { ...options, components });
  downloaded.push(...(await ensureFiles(ctx, commit, files, byName, options.onProgress)));
  return { repoId, revision, commit, dir: cache.snapshotDir(repoId, commit), files, downloaded };
}

/** Fetches those of `files` the snapshot lacks; returns their names. */
async function ensureFiles(
  ctx: Context,
  commit: string,
  files: readonly string[],
  byName: ReadonlyMap<string, RepoSibling>,
  onProgress: DownloadProgressCallback | undefined,
): Promise<string[]> {
  const { cache, client, repoId, options } = ctx;
  const missing: string[] = [];
  for (const f of files) if (!(await cache.hasFile(repoId, commit, f))) missing.push(f);
  if (missing.length === 0) return [];
  const limit = options.concurrency ?? 4;
  const metas = await runPool(missing, limit, client.signal, async (path, _i, signal) => {
    const meta = await fetchFileMetadata({ ...client, signal }, repoId, commit, path);
    const listed = byName.get(path);
    // Two answers from the hub that disagree mean something in between is wrong: download nothing.
    if (meta.commit !== commit) throw new HubError('integrity', `${repoId}/${path}: the hub answered for commit ${meta.commit}, not ${commit}`);
    if (listed?.lfs && listed.lfs.sha256 !== meta.etag) throw new HubError('integrity', `${repoId}/${path}: the listing says sha256 ${listed.lfs.sha256}, the file's ETag ${meta.etag}`);
    const listedSize = listed?.lfs?.size ?? listed?.size;
    if (listedSize !== undefined && listedSize !== meta.size) throw new HubError('integrity', `${repoId}/${path}: the listing says ${listedSize} bytes, the file's headers ${meta.size}`);
    return meta;
  });
  const tracker = new ProgressTracker(
    missing.map((path, i) => ({ path, size: metas[i]?.size ?? 0 })),
    onProgress,
  );
  await runPool(missing, limit, client.signal, async (path, i, signal) => {
    const meta = metas[i];
    if (!meta) throw new Error(`internal: no metadata for ${path}`);
    await fetchFileToCache({
      client: { ...client, signal },
      cache,
      repoId,
      commit,
      path,
      meta,
      listedBlobId: byName.get(path)?.blobId,
      onBytes: (bytes) => tracker.update(path, bytes),
      retries: options.retries,
    });
    tracker.finish(path);
  });
  return missing;
}

/**
 * The snapshot from the cache alone, or an `offline-missing` error saying what is missing and why the hub was
 * not asked. Completeness is judged from `trees/<commit>.json` when present; without it (a cache filled by an
 * older huggingface_hub) the snapshot's own files are taken as the listing.
 */
async function fromCache(ctx: Context, reason: string, requireTree: boolean, cause?: unknown): Promise<Snapshot> {
  const { cache, repoId, revision, options } = ctx;
  const where = `${repoId}@${revision}`;
  const commit = await cache.resolveCommit(repoId, revision);
  if (commit === undefined || !(await cache.hasSnapshot(repoId, commit))) {
    throw new HubError('offline-missing', `${where} is not in the Hugging Face cache at ${cache.root}, and ${reason}; run once with network access to download it`, { cause });
  }
  const tree = await cache.readTree(repoId, commit);
  if (!tree && requireTree) throw new HubError('offline-missing', `${where}: no cached listing for commit ${commit}`);
  const names = tree ? [...tree.keys()] : await cache.snapshotFiles(repoId, commit);
  let components: Set<string> | undefined;
  if (!options.files && names.includes('model_index.json') && (await cache.hasFile(repoId, commit, 'model_index.json'))) {
    components = componentsOf(await readFile(cache.filePath(repoId, commit, 'model_index.json'), 'utf8'));
  }
  const files = selectFiles(names.filter(isSafeRepoFilename), { ...options, components });
  const missing: string[] = [];
  for (const f of files) if (!(await cache.hasFile(repoId, commit, f))) missing.push(f);
  if (missing.length > 0 || files.length === 0) {
    const list = missing.length > 0 ? `${missing.length} file(s) are missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}` : 'it holds none of the requested files';
    throw new HubError('offline-missing', `${where} (commit ${commit}) is incomplete in the cache at ${cache.root}: ${list}; and ${reason}`, { cause });
  }
  return { repoId, revision, commit, dir: cache.snapshotDir(repoId, commit), files, downloaded: [] };
}

function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A model source from a local folder path or a Hugging Face repo id: an existing folder is used as it is;
 * otherwise `owner/name` is resolved through the hub cache, downloading what is missing
 * (see {@link downloadSnapshot}).
 *
 * @example
 * const source = await resolveModel('IDKiro/sdxs-512-dreamshaper', { onProgress: bar.update });
 * const index = JSON.parse(await source.readText('model_index.json'));
 */
export async function resolveModel(idOrPath: string, options: ResolveModelOptions = {}): Promise<LocalFolderSource> {
  const path = expandHome(idOrPath);
  if (await isDirectory(path)) return new LocalFolderSource(resolve(path));
  const looksLikePath = /^[.~/\\]|^[A-Za-z]:|\\/.test(idOrPath);
  if (looksLikePath || !isRepoId(idOrPath)) {
    throw new HubError(
      'invalid-repo-id',
      looksLikePath
        ? `${idOrPath}: no such model folder`
        : `${JSON.stringify(idOrPath)} is neither an existing model folder nor a Hugging Face repo id ("owner/name")`,
    );
  }
  const snapshot = await downloadSnapshot(idOrPath, options);
  return new LocalFolderSource(snapshot.dir);
}
