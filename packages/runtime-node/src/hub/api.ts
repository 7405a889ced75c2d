import type { TreeEntry } from './cache-layout.js';
import { HubError, messageOf } from './errors.js';
import { hubFetch, IdleDeadline, statusError, type HubClient } from './http.js';
import { checkCommit, checkRepoFilename, checkRepoId } from './repo-id.js';

/** A file of a repo revision as the hub lists it (`siblings` of the model info, asked with `blobs=true`). */
export interface RepoSibling {
  rfilename: string;
  size?: number;
  blobId?: string;
  lfs?: { sha256: string; size: number };
}

export interface RevisionInfo {
  /** The commit the revision points to. */
  sha: string;
  siblings: RepoSibling[];
}

/** What a HEAD of `resolve/<commit>/<path>` says about a file. */
export interface FileMetadata {
  commit: string;
  /** The blob name: the LFS sha256 for LFS files, the git blob id otherwise. */
  etag: string;
  size: number;
  /** Where to GET the bytes (the CDN URL for LFS files). */
  url: string;
}

/**
 * `{endpoint}/{repo}/resolve/{revision}/{path}`, quoted as huggingface_hub's `hf_hub_url` does.
 *
 * @example
 * resolveUrl('https://huggingface.co', 'IDKiro/sdxs-512-0.9', 'main', 'unet/config.json');
 * // 'https://huggingface.co/IDKiro/sdxs-512-0.9/resolve/main/unet/config.json'
 */
export function resolveUrl(endpoint: string, repoId: string, revision: string, path: string): string {
  const file = checkRepoFilename(path).split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/${checkRepoId(repoId)}/resolve/${encodeURIComponent(revision)}/${file}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseSibling(v: unknown): RepoSibling | undefined {
  if (!isObject(v) || typeof v.rfilename !== 'string') return undefined;
  const out: RepoSibling = { rfilename: v.rfilename };
  if (typeof v.size === 'number') out.size = v.size;
  if (typeof v.blobId === 'string') out.blobId = v.blobId;
  if (isObject(v.lfs) && typeof v.lfs.sha256 === 'string' && typeof v.lfs.size === 'number') out.lfs = { sha256: v.lfs.sha256, size: v.lfs.size };
  return out;
}

/**
 * `GET {endpoint}/api/models/{repo}/revision/{revision}?blobs=true`: the commit a revision points to and
 * the files it holds (with sizes and LFS hashes), as huggingface_hub's `model_info(files_metadata=True)`.
 *
 * @example
 * const { sha, siblings } = await fetchRevisionInfo({ endpoint, token, timeoutMs: 30_000 }, 'IDKiro/sdxs-512-0.9', 'main');
 */
export async function fetchRevisionInfo(client: HubClient, repoId: string, revision: string): Promise<RevisionInfo> {
  const url = `${client.endpoint}/api/models/${checkRepoId(repoId)}/revision/${encodeURIComponent(revision)}?blobs=true`;
  const what = `${repoId}@${revision}`;
  const deadline = new IdleDeadline(client.timeoutMs, client.signal);
  try {
    const { response } = await hubFetch(client, { method: 'GET', url, followAbsolute: false, deadline });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw statusError(response, what);
    }
    let data: unknown;
    try {
      data = await response.json();
    } catch (e) {
      throw deadline.timedOut || client.signal?.aborted ? deadline.explain(e, what) : new HubError('http', `${what}: the hub's answer is not JSON (${messageOf(e)})`);
    }
    if (!isObject(data) || typeof data.sha !== 'string' || !Array.isArray(data.siblings)) {
      throw new HubError('http', `${what}: the hub's answer has no "sha" and "siblings"`);
    }
    const sha = data.sha;
    const siblings = data.siblings.map(parseSibling);
    if (siblings.some((s) => s === undefined)) throw new HubError('http', `${what}: a sibling has no "rfilename"`);
    return { sha: checkCommit(sha), siblings: siblings.filter((s) => s !== undefined) };
  } finally {
    deadline.clear();
  }
}

/** The listing as a `trees/<commit>.json` map, or undefined when the hub left out sizes or blob ids. */
export function treeOf(siblings: readonly RepoSibling[]): Map<string, TreeEntry> | undefined {
  const tree = new Map<string, TreeEntry>();
  for (const s of siblings) {
    if (s.size === undefined || s.blobId === undefined) return undefined;
    // For an LFS file the size that matters is the content's (lfs.size), not the git pointer's.
    tree.set(s.rfilename, s.lfs ? { size: s.lfs.size, blob_id: s.blobId, lfs_sha256: s.lfs.sha256, lfs_size: s.lfs.size } : { size: s.size, blob_id: s.blobId });
  }
  return tree;
}

/** huggingface_hub's `_normalize_etag`: drop a weak `W/` prefix and the quotes. */
function normalizeEtag(etag: string | null): string | undefined {
  if (etag === null) return undefined;
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}

/**
 * `HEAD {endpoint}/{repo}/resolve/{commit}/{path}`, read as huggingface_hub's `get_hf_file_metadata` does:
 * the commit from `X-Repo-Commit`, the blob name from `X-Linked-Etag` (an LFS file's sha256) or `ETag`, the
 * size from `X-Linked-Size` or (when not redirected) `Content-Length`, and the download URL from `Location`.
 *
 * @example
 * const meta = await fetchFileMetadata(client, 'IDKiro/sdxs-512-0.9', commit, 'unet/diffusion_pytorch_model.safetensors');
 * // { commit, etag: '<sha256>', size: 1262…, url: 'https://cdn-lfs…' }
 */
export async function fetchFileMetadata(client: HubClient, repoId: string, revision: string, path: string): Promise<FileMetadata> {
  const url = resolveUrl(client.endpoint, repoId, revision, path);
  const what = `${repoId}/${path}`;
  const deadline = new IdleDeadline(client.timeoutMs, client.signal);
  try {
    const { response, url: answered } = await hubFetch(client, { method: 'HEAD', url, followAbsolute: false, deadline });
    const redirected = response.status >= 300 && response.status < 400;
    if (!response.ok && !redirected) throw statusError(response, what);
    const h = response.headers;
    const commit = h.get('x-repo-commit');
    const etag = normalizeEtag(h.get('x-linked-etag') ?? h.get('etag'));
    const sizeText = h.get('x-linked-size') ?? (redirected ? null : h.get('content-length'));
    const size = sizeText === null ? NaN : Number(sizeText);
    if (commit === null) throw new HubError('http', `${what}: no X-Repo-Commit header: is ${client.endpoint} a Hugging Face hub (check HF_ENDPOINT, proxies)?`);
    if (etag === undefined) throw new HubError('http', `${what}: no ETag: the file cannot be checked, so it is not downloaded`);
    if (!Number.isSafeInteger(size) || size < 0) throw new HubError('http', `${what}: no usable size (X-Linked-Size / Content-Length)`);
    const location = h.get('location');
    return { commit: checkCommit(commit), etag, size, url: location === null ? answered : new URL(location, answered).href };
  } catch (e) {
    throw deadline.explain(e, `HEAD ${url}`);
  } finally {
    deadline.clear();
  }
}
