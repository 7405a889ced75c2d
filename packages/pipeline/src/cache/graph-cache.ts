/**
 * Where built graphs are kept between loads. A pipeline builds each graph (model, batch, size, target) once;
 * with a cache, the next load of the same model skips building and serializing it. The pipeline stores the
 * graph's structure only (weights are bound from the model's own files each time), so entries stay small.
 * Node's disk cache (atomic writes) lives in @sdxs/runtime-node; a browser's could use Cache Storage.
 */

/** A key → bytes store for built graphs; keys come from {@link graphKey}. */
export interface GraphCache {
  /** The bytes stored under `key`, or undefined. A cache may drop entries at any time. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Store `bytes` under `key` (replacing what was there). */
  put(key: string, bytes: Uint8Array): Promise<void>;
}

/**
 * A GraphCache in memory, least recently used entries dropped beyond `maxBytes` (default 256 MiB).
 *
 * @example
 * const cache = new MemoryGraphCache();
 * const pipe = await StableDiffusionPipeline.load(source, runtime, { cache });
 */
export class MemoryGraphCache implements GraphCache {
  readonly maxBytes: number;
  readonly #entries = new Map<string, Uint8Array>();
  #bytes = 0;

  constructor(maxBytes = 256 * 2 ** 20) {
    if (!(maxBytes >= 0)) throw new RangeError(`MemoryGraphCache: maxBytes must be ≥ 0, got ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  /** Number of entries held. */
  get size(): number {
    return this.#entries.size;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const v = this.#entries.get(key);
    if (v === undefined) return undefined;
    // Re-insert: Map iteration order is insertion order, so the first key is the least recently used.
    this.#entries.delete(key);
    this.#entries.set(key, v);
    return v.slice();
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const old = this.#entries.get(key);
    if (old) {
      this.#bytes -= old.length;
      this.#entries.delete(key);
    }
    if (bytes.length > this.maxBytes) return;
    // A copy: the caller may reuse its buffer.
    this.#entries.set(key, bytes.slice());
    this.#bytes += bytes.length;
    for (const [k, v] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= v.length;
    }
  }
}
