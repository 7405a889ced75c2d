/**
 * Where downloaded model files are kept between visits. Cache Storage commits an entry only when its whole
 * body has arrived, so an interrupted download leaves nothing behind (RELIABILITY items 10–12); the entry's
 * Blob is disk-backed and read a slice at a time.
 */

/** A URL → file store. */
export interface FileStore {
  /** The stored file, or undefined. */
  get(url: string): Promise<Blob | undefined>;
  /**
   * Store the stream's bytes under `url` and return them as a Blob. A body that errors (a failed or aborted
   * download, a size or hash mismatch found while streaming) stores nothing and rejects.
   */
  put(url: string, body: ReadableStream<Uint8Array>): Promise<Blob>;
  delete(url: string): Promise<void>;
}

/** The subset of the Cache interface used here, so tests can hand in their own. */
export interface CacheLike {
  match(request: string): Promise<Response | undefined>;
  put(request: string, response: Response): Promise<void>;
  delete(request: string): Promise<boolean>;
}

/** Default Cache Storage bucket for model files. */
export const MODEL_CACHE_NAME = 'sdxs-models-v1';

/**
 * A FileStore on Cache Storage (available in windows and workers on secure origins: https and localhost).
 *
 * @example
 * const store = await CacheStorageFileStore.open(); // undefined where Cache Storage is missing
 */
export class CacheStorageFileStore implements FileStore {
  readonly #cache: CacheLike;

  constructor(cache: CacheLike) {
    this.#cache = cache;
  }

  /** Open the named cache; undefined where Cache Storage is missing or refused (insecure origin, private mode). */
  static async open(name = MODEL_CACHE_NAME): Promise<CacheStorageFileStore | undefined> {
    const storage: CacheStorage | undefined = globalThis.caches;
    if (!storage) return undefined;
    try {
      return new CacheStorageFileStore(await storage.open(name));
    } catch {
      return undefined;
    }
  }

  async get(url: string): Promise<Blob | undefined> {
    const response = await this.#cache.match(url);
    return response ? response.blob() : undefined;
  }

  async put(url: string, body: ReadableStream<Uint8Array>): Promise<Blob> {
    await this.#cache.put(url, new Response(body, { headers: { 'content-type': 'application/octet-stream' } }));
    const blob = await this.get(url);
    if (!blob) throw new Error(`${url}: Cache Storage dropped the file right after storing it (storage quota?)`);
    return blob;
  }

  async delete(url: string): Promise<void> {
    await this.#cache.delete(url);
  }
}

/** A FileStore in memory: where Cache Storage is missing, and in tests. Files last as long as the store. */
export class MemoryFileStore implements FileStore {
  readonly #files = new Map<string, Blob>();

  async get(url: string): Promise<Blob | undefined> {
    return this.#files.get(url);
  }

  async put(url: string, body: ReadableStream<Uint8Array>): Promise<Blob> {
    const blob = await new Response(body).blob();
    this.#files.set(url, blob);
    return blob;
  }

  async delete(url: string): Promise<void> {
    this.#files.delete(url);
  }
}

/**
 * Remove every cached model file (the whole bucket).
 *
 * @example
 * await clearModelCache();
 */
export async function clearModelCache(name = MODEL_CACHE_NAME): Promise<boolean> {
  const storage: CacheStorage | undefined = globalThis.caches;
  return storage ? storage.delete(name) : false;
}
