import { RangedFetchByteSource, type ByteSource, type FetchLike, type ModelSource } from '@sdxs/tensor';
import { BlobByteSource } from './blob-source.js';
import { downloadToStore, type DownloadProgressCallback } from './download.js';
import type { FileStore } from './file-store.js';
import { RemoteFile } from './remote-file.js';

export interface UrlModelSourceOptions {
  /** Defaults to the global `fetch`. */
  readonly fetch?: FetchLike;
  /** Extra request headers, e.g. `Authorization: Bearer hf_…` for a gated Hugging Face repo. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Where downloaded files are kept (CacheStorageFileStore, MemoryFileStore). Without one, weights are read
   * tensor by tensor with Range requests every time a graph needs them, and nothing is kept.
   */
  readonly store?: FileStore;
  /** Download progress, per file. */
  readonly onProgress?: DownloadProgressCallback;
  /** Expected SHA-256 (hex) per path; also taken from Hugging Face's LFS ETags when the server sends them. */
  readonly sha256?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

/** Refuse paths that could leave the model folder's URL: `..`, absolute, drive, backslashes, queries, fragments. */
function checkPath(path: string): void {
  if (
    path === '' ||
    path.startsWith('/') ||
    /^[a-zA-Z]:/.test(path) ||
    /[\\?#\0]/.test(path) ||
    path.split('/').some((s) => s === '..' || s === '.' || s === '')
  ) {
    throw new Error(`refusing model path ${JSON.stringify(path)}: it must stay inside the model folder`);
  }
}

/**
 * A diffusers folder served over HTTP: a same-origin URL (`/models/sdxs/`) or a Hugging Face `resolve` URL
 * (see {@link huggingFaceModelUrl}). Text files are fetched whole; safetensors files are opened with Range
 * requests (header only) and downloaded once, into `store`, when their tensors are first read.
 *
 * @example
 * const source = new UrlModelSource('/models/sdxs/', { store: await CacheStorageFileStore.open(), onProgress: console.log });
 * const pipe = await StableDiffusionPipeline.load(source, runtime, { target: runtime.backend });
 */
export class UrlModelSource implements ModelSource {
  readonly id: string;
  /** The folder's URL, ending with `/`. */
  readonly base: string;
  readonly #options: UrlModelSourceOptions;
  readonly #fetch: FetchLike;

  constructor(base: string | URL, options: UrlModelSourceOptions = {}) {
    const href = new URL(base, globalThis.location?.href).href;
    this.base = href.endsWith('/') ? href : `${href}/`;
    // The pipeline names files as `${id}/${path}`.
    this.id = this.base.slice(0, -1);
    this.#options = options;
    this.#fetch = options.fetch ?? ((u, init) => fetch(u, init));
  }

  /** The URL of a file of the folder (each path segment percent-encoded). */
  url(path: string): string {
    checkPath(path);
    return new URL(path.split('/').map(encodeURIComponent).join('/'), this.base).href;
  }

  async exists(path: string): Promise<boolean> {
    const url = this.url(path);
    if (await this.#options.store?.get(url)) return true;
    let response = await this.#fetch(url, this.#init('HEAD'));
    // Some static hosts refuse HEAD; a one-byte range says the same.
    if (response.status === 405 || response.status === 501) response = await this.#fetch(url, this.#init('GET', { Range: 'bytes=0-0' }));
    await response.body?.cancel();
    if (response.ok) return true;
    if (response.status === 404 || response.status === 410) return false;
    throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`.trim());
  }

  async readText(path: string): Promise<string> {
    const url = this.url(path);
    const store = this.#options.store;
    const cached = await store?.get(url);
    if (cached) return cached.text();
    if (store) return (await this.#download(path, url)).text();
    const response = await this.#fetch(url, this.#init('GET'));
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`.trim());
    }
    return response.text();
  }

  async open(path: string): Promise<ByteSource> {
    const url = this.url(path);
    const store = this.#options.store;
    const cached = await store?.get(url);
    if (cached) {
      this.#options.onProgress?.({ file: path, loaded: cached.size, total: cached.size, done: true, cached: true });
      return new BlobByteSource(cached, url);
    }
    const rangeOptions = { name: url, fetch: this.#fetch, ...(this.#options.headers ? { headers: this.#options.headers } : {}), ...(this.#options.signal ? { signal: this.#options.signal } : {}) };
    let ranged: RangedFetchByteSource;
    try {
      ranged = await RangedFetchByteSource.open(url, rangeOptions);
    } catch (e) {
      // A server without Range support answers 200 with the whole file: download it now instead.
      if (store && e instanceof Error && /ignored the Range request/.test(e.message)) return new BlobByteSource(await this.#download(path, url), url);
      throw e;
    }
    if (!store) return ranged;
    return new RemoteFile({ name: url, size: ranged.size, range: (o, l) => ranged.read(o, l), download: () => this.#download(path, url, ranged.size) });
  }

  #download(path: string, url: string, size?: number): Promise<Blob> {
    const store = this.#options.store;
    if (!store) throw new Error(`${url}: no store to download into`);
    const o = this.#options;
    const sha256 = o.sha256?.[path];
    return downloadToStore(url, store, {
      file: path,
      fetch: this.#fetch,
      ...(o.headers ? { headers: o.headers } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(size !== undefined ? { size } : {}),
      ...(sha256 ? { sha256 } : {}),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    });
  }

  #init(method: string, extra: Record<string, string> = {}): RequestInit {
    const init: RequestInit = { method, headers: { ...this.#options.headers, ...extra } };
    if (this.#options.signal) init.signal = this.#options.signal;
    return init;
  }
}

/**
 * The `resolve` URL of a Hugging Face model repo, for {@link UrlModelSource}. Pin `revision` to a commit for
 * files that never change under their URL (the cache is keyed by URL).
 *
 * @example
 * new UrlModelSource(huggingFaceModelUrl('IDKiro/sdxs-512-dreamshaper'));
 * // https://huggingface.co/IDKiro/sdxs-512-dreamshaper/resolve/main/
 */
export function huggingFaceModelUrl(repo: string, options: { revision?: string; endpoint?: string } = {}): string {
  if (!/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(repo) || repo.split('/').some((s) => s === '.' || s === '..')) {
    throw new Error(`not a Hugging Face repo id: ${JSON.stringify(repo)} (expected owner/name)`);
  }
  const endpoint = (options.endpoint ?? 'https://huggingface.co').replace(/\/+$/, '');
  return `${endpoint}/${repo}/resolve/${encodeURIComponent(options.revision ?? 'main')}/`;
}

/**
 * A model's name for image metadata from its folder URL: the repo id of a Hugging Face `resolve` URL, else the
 * folder's last path segment — never the host (a downloaded image should not carry the server's address).
 *
 * @example
 * modelNameOf('https://huggingface.co/IDKiro/sdxs-512-dreamshaper/resolve/main/'); // 'IDKiro/sdxs-512-dreamshaper'
 * modelNameOf('http://127.0.0.1:5173/models/micro/'); // 'micro'
 */
export function modelNameOf(url: string): string {
  const path = new URL(url, globalThis.location?.href ?? 'http://localhost/').pathname;
  const hub = /^\/([^/]+\/[^/]+)\/resolve\//.exec(path);
  if (hub) return decodeURIComponent(hub[1]!);
  const parts = path.split('/').filter((p) => p !== '');
  return parts.length ? decodeURIComponent(parts[parts.length - 1]!) : url;
}

