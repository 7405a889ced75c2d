/**
 * StableDiffusionPipeline.encode_prompt without the repeats: prompts → CLIP token ids (padded to 77, truncated
 * keeping EOS) → the text encoder's last_hidden_state, one row per prompt. Rows are cached by token ids, so
 * a prompt seen before (or one that tokenizes the same) never reruns the text encoder.
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

/** Runs the text encoder graph: input_ids [n, length] → prompt_embeds [n, length, hidden]. */
export type TextEncoderRun = (inputIds: Tensor<'int64'>, call: EncodeCall) => Promise<Tensor | undefined>;

export class PromptEncoder {
  readonly #tokenizer: CLIPTokenizer;
  readonly #run: TextEncoderRun;
  readonly #cache: PromptEmbeddingCache;
  /** Identity of tokenizer + text encoder in cache keys. */
  readonly #scope: string;
  /** The text encoder's folder, for the error when its output is not finite. */
  readonly #where: string;

  constructor(tokenizer: CLIPTokenizer, run: TextEncoderRun, cache: PromptEmbeddingCache, scope: string, where: string) {
    this.#tokenizer = tokenizer;
    this.#where = where;
    this.#run = run;
    this.#cache = cache;
    this.#scope = scope;
  }

  /** `prompt_embeds` [prompts, 77, hidden] float32, one row per prompt in order. */
  async encode(prompts: readonly string[], call: EncodeCall = {}): Promise<Tensor<'float32'>> {
    const { inputIds } = this.#tokenizer.call(prompts);
    const [rows, length] = inputIds.shape as [number, number];
    const keys: string[] = [];
    for (let r = 0; r < rows; r++) keys.push(PromptEmbeddingCache.key(this.#scope, inputIds.data.subarray(r * length, (r + 1) * length).join(',')));
    const found = keys.map((k) => this.#cache.get(k));
    // Rows to compute, each once even when a prompt repeats within the batch.
    const todo = [...new Set(keys.filter((_, i) => found[i] === undefined))];
    if (todo.length > 0) {
      const t0 = performance.now();
      call.onProgress?.({ stage: 'encode', prompts: rows, cached: rows - todo.length });
      const ids = new BigInt64Array(todo.length * length);
      todo.forEach((k, j) => {
        const r = keys.indexOf(k);
        ids.set(inputIds.data.subarray(r * length, (r + 1) * length), j * length);
      });
      const out = await this.#run(new Tensor('int64', [todo.length, length], ids), call);
      if (!out || !(out.data instanceof Float32Array) || out.shape[0] !== todo.length || out.shape[1] !== length) {
        throw new Error(`text encoder returned ${out ? `${out.dtype}[${out.shape.join(', ')}]` : 'nothing'} for ${todo.length} prompts`);
      }
      // Checked once, as the rows are made (cached rows were checked then); the encoder always runs in float32.
      throwIfTensorNotFinite(out, 'text_encoder', this.#where, false);
      const embeds = out.data;
      const width = out.size / todo.length;
      todo.forEach((k, j) => {
        const row = embeds.slice(j * width, (j + 1) * width);
        this.#cache.set(k, row);
        keys.forEach((key, i) => {
          if (key === k) found[i] = row;
        });
      });
      call.onProgress?.({ stage: 'encode', prompts: rows, cached: rows - todo.length, ms: performance.now() - t0 });
    }
    const width = found[0]!.length;
    const data = new Float32Array(rows * width);
    found.forEach((row, i) => data.set(row!, i * width));
    return new Tensor('float32', [rows, length, width / length], data);
  }
}
