import type { GraphCache } from '@sdxs/pipeline';
import type { CacheLike } from './source/file-store.js';

/** Default Cache Storage bucket for built graphs. */
export const GRAPH_CACHE_NAME = 'sdxs-graphs-v1';

/**
 * A GraphCache in Cache Storage: the next visit skips building and serializing graphs. Entries hold graph
 * structure only (weights come from the model files), so they are small. Keys become URLs under a reserved
 * path of `origin`; they are hex digests, so nothing needs escaping.
 *
 * @example
 * const cache = (await CacheStorageGraphCache.open()) ?? new MemoryGraphCache();
 * const pipe = await StableDiffusionPipeline.load(source, runtime, { cache });
 */
export class CacheStorageGraphCache implements GraphCache {
  readonly #cache: CacheLike;
  readonly #prefix: string;

  constructor(cache: CacheLike, origin = globalThis.location?.origin ?? 'http://localhost') {
    this.#cache = cache;
    this.#prefix = `${origin}/__sdxs__/graphs/`;
  }

  /** Open the named cache; undefined where Cache Storage is missing or refused. */
  static async open(name = GRAPH_CACHE_NAME): Promise<CacheStorageGraphCache | undefined> {
    const storage: CacheStorage | undefined = globalThis.caches;
    if (!storage) return undefined;
    try {
      return new CacheStorageGraphCache(await storage.open(name));
    } catch {
      return undefined;
    }
  }

  #url(key: string): string {
    if (!/^[0-9a-zA-Z_-]+$/.test(key)) throw new Error(`CacheStorageGraphCache: unexpected key ${JSON.stringify(key)}`);
    return this.#prefix + key;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const response = await this.#cache.match(this.#url(key));
    return response ? new Uint8Array(await response.arrayBuffer()) : undefined;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    try {
      // A copy into a fresh ArrayBuffer: the caller may reuse its buffer, and Response wants an ArrayBuffer-backed view.
      await this.#cache.put(this.#url(key), new Response(bytes.slice(), { headers: { 'content-type': 'application/octet-stream' } }));
    } catch {
      // A cache that cannot store (quota, private mode) only costs a rebuild next time.
    }
  }
}
