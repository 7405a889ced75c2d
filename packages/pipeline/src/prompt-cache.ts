/**
 * Prompt embeddings by prompt text, least recently used dropped first. Interactive use changes the seed or
 * the control image far more often than the prompt; with this cache those changes never rerun the text
 * encoder. Keys include the tokenizer's identity, so one cache may serve several pipelines.
 */
export class PromptEmbeddingCache {
  readonly capacity: number;
  readonly #rows = new Map<string, Float32Array>();

  constructor(capacity = 256) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`PromptEmbeddingCache: capacity must be an integer ≥ 0, got ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.#rows.size;
  }

  static key(tokenizer: string, prompt: string): string {
    return `${tokenizer}\u0000${prompt}`;
  }

  /** The embedding [tokens × hidden] of `key`, marked as recently used. */
  get(key: string): Float32Array | undefined {
    const row = this.#rows.get(key);
    if (row) {
      this.#rows.delete(key);
      this.#rows.set(key, row);
    }
    return row;
  }

  set(key: string, row: Float32Array): void {
    if (this.capacity === 0) return;
    this.#rows.delete(key);
    this.#rows.set(key, row);
    while (this.#rows.size > this.capacity) {
      const oldest = this.#rows.keys().next();
      if (oldest.done) break;
      this.#rows.delete(oldest.value);
    }
  }

  clear(): void {
    this.#rows.clear();
  }
}
