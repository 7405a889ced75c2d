/**
 * `encode_prompt` without the repeats: prompts → CLIP token ids (padded to 77, truncated keeping EOS) → the text
 * encoder's hidden states, one row per prompt. SD has one tokenizer and encoder; SDXL two (each prompt tokenized by
 * both, `prompt_2` for the second), their rows concatenated, plus a pooled row. Rows are cached by the token ids of
 * every tokenizer, so a prompt seen before (or one that tokenizes the same) never reruns an encoder.
 */
import type { CLIPTokenizer } from '@sdxs/clip';
import { Tensor } from '@sdxs/tensor';
import { throwIfTensorNotFinite } from './finite.js';
import type { ProgressCallback } from './progress.js';
import { PromptEmbeddingCache } from './prompt-cache.js';

/** What one encode call carries: its abort signal and where its progress goes. */
export interface EncodeCall {
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ProgressCallback | undefined;
}

/** Encoded prompts: `embeds` [n, length, hidden] and, for SDXL, `pooled` [n, projection_dim]. */
export interface EncodedPrompts {
  readonly embeds: Tensor<'float32'>;
  readonly pooled?: Tensor<'float32'>;
}

/**
 * Runs the text encoder graph(s): one input_ids [n, length] per tokenizer → `embeds` [n, length, hidden] (and
 * `pooled` [n, pooledDim] when the encoder has a pooled output).
 */
export type TextEncoderRun = (inputIds: readonly Tensor<'int64'>[], call: EncodeCall) => Promise<{ readonly embeds: Tensor | undefined; readonly pooled?: Tensor | undefined }>;

export class PromptEncoder {
  readonly #tokenizers: readonly CLIPTokenizer[];
  readonly #run: TextEncoderRun;
  readonly #cache: PromptEmbeddingCache;
  /** Identity of the tokenizers + text encoders in cache keys (a function when it changes: switchable LoRA scales). */
  readonly #scope: string | (() => string);
  /** The text encoder folders, for the error when an output is not finite. */
  readonly #where: string;
  /** Width of the pooled row (0: none). */
  readonly #pooledDim: number;

  constructor(tokenizers: readonly CLIPTokenizer[], run: TextEncoderRun, cache: PromptEmbeddingCache, scope: string | (() => string), where: string, pooledDim = 0) {
    if (tokenizers.length === 0) throw new RangeError('PromptEncoder: no tokenizer');
    this.#tokenizers = tokenizers;
    this.#where = where;
    this.#run = run;
    this.#cache = cache;
    this.#scope = scope;
    this.#pooledDim = pooledDim;
  }

  /**
   * Rows for `prompts` in order; `prompts[k]` goes to tokenizer k (SD: one list; SDXL: prompt and prompt_2).
   *
   * @example
   * const { embeds } = await encoder.encode([['a cat']]); // SD: [1, 77, 768]
   * const { embeds: e, pooled } = await xl.encode([['a cat'], ['a cat, oil painting']]); // SDXL: [1, 77, 2048], [1, 1280]
   */
  async encode(prompts: readonly (readonly string[])[], call: EncodeCall = {}): Promise<EncodedPrompts> {
    if (prompts.length !== this.#tokenizers.length) throw new RangeError(`PromptEncoder: ${prompts.length} prompt lists for ${this.#tokenizers.length} tokenizers`);
    const ids = this.#tokenizers.map((t, k) => t.call(prompts[k]!).inputIds);
    const [rows, length] = ids[0]!.shape as [number, number];
    for (const t of ids) if (t.shape[0] !== rows || t.shape[1] !== length) throw new RangeError(`PromptEncoder: tokenized as [${t.shape.join(', ')}], the first tokenizer as [${rows}, ${length}]`);
    const rowIds = (t: Tensor<'int64'>, r: number) => t.data.subarray(r * length, (r + 1) * length);
    const keys: string[] = [];
    const scope = typeof this.#scope === 'string' ? this.#scope : this.#scope();
    for (let r = 0; r < rows; r++) keys.push(PromptEmbeddingCache.key(scope, ids.map((t) => rowIds(t, r).join(',')).join('|')));
    const found = keys.map((k) => this.#cache.get(k));
    // Rows to compute, each once even when a prompt repeats within the batch.
    const todo = [...new Set(keys.filter((_, i) => found[i] === undefined))];
    let width = 0;
    if (todo.length > 0) {
      const t0 = performance.now();
      call.onProgress?.({ stage: 'encode', prompts: rows, cached: rows - todo.length });
      const inputs = ids.map((t) => {
        const data = new BigInt64Array(todo.length * length);
        todo.forEach((k, j) => data.set(rowIds(t, keys.indexOf(k)), j * length));
        return new Tensor('int64', [todo.length, length], data);
      });
      const out = await this.#run(inputs, call);
      const embeds = this.#checked(out.embeds, [todo.length, length], 'text encoder');
      const pooled = this.#pooledDim > 0 ? this.#checked(out.pooled, [todo.length, this.#pooledDim], 'pooled text encoder output') : undefined;
      width = embeds.size / todo.length;
      todo.forEach((k, j) => {
        // One cache row: the hidden states, then the pooled output.
        const row = new Float32Array(width + this.#pooledDim);
        row.set(embeds.data.subarray(j * width, (j + 1) * width));
        if (pooled) row.set(pooled.data.subarray(j * this.#pooledDim, (j + 1) * this.#pooledDim), width);
        this.#cache.set(k, row);
        keys.forEach((key, i) => {
          if (key === k) found[i] = row;
        });
      });
      call.onProgress?.({ stage: 'encode', prompts: rows, cached: rows - todo.length, ms: performance.now() - t0 });
    }
    width = found[0]!.length - this.#pooledDim;
    const embeds = new Float32Array(rows * width);
    const pooled = new Float32Array(rows * this.#pooledDim);
    found.forEach((row, i) => {
      embeds.set(row!.subarray(0, width), i * width);
      pooled.set(row!.subarray(width), i * this.#pooledDim);
    });
    const out = new Tensor('float32', [rows, length, width / length], embeds);
    return this.#pooledDim > 0 ? { embeds: out, pooled: new Tensor('float32', [rows, this.#pooledDim], pooled) } : { embeds: out };
  }

  /** A float32 output of the leading shape `lead`, checked once as the rows are made (the encoders always run in float32). */
  #checked(t: Tensor | undefined, lead: readonly number[], what: string): Tensor<'float32'> {
    if (!t || !(t.data instanceof Float32Array) || lead.some((d, i) => t.shape[i] !== d)) {
      throw new Error(`${what} returned ${t ? `${t.dtype}[${t.shape.join(', ')}]` : 'nothing'} for ${lead[0]} prompts`);
    }
    throwIfTensorNotFinite(t, 'text_encoder', this.#where, false);
    return new Tensor('float32', t.shape, t.data);
  }
}
