/**
 * The text side of every mode: prompts → the conditioning each U-Net (and ControlNet) graph is fed. SD: the text
 * encoder's last hidden state as `encoder_hidden_states`. SDXL, as diffusers' `StableDiffusionXLPipeline.encode_prompt`
 * and `__call__` (pipelines/stable_diffusion_xl/pipeline_stable_diffusion_xl.py): each encoder's `hidden_states[-2]`
 * concatenated on the last axis (text_encoder first), `text_embeds` the second encoder's projected pooled output,
 * `time_ids` from the size conditioning; with guidance and no negative prompt, `force_zeros_for_empty_prompt` makes
 * the negative rows zeros.
 */
import type { Graph } from '@sdxs/graph';
import { Tensor, type Session } from '@sdxs/tensor';
import { runUnlessAborted } from './call.js';
import { TEXT_2_COMPONENTS, TEXT_COMPONENTS, textEncoderGraph, type BuildSettings } from './graphs/builders.js';
import type { ComponentPrefix } from './graphs/packed-graph.js';
import type { PipelineComponents } from './model/components.js';
import type { ProgressCallback } from './progress.js';
import type { PromptEmbeddingCache } from './prompt-cache.js';
import { PromptEncoder, type EncodeCall, type EncodedPrompts } from './prompt-encoder.js';
import type { CheckedRequest } from './request.js';
import { sdxlFieldsGiven, sdxlTimeIds } from './sdxl-request.js';
import { concatRows, repeatRows } from './tensors.js';

/** What the text side feeds every U-Net/ControlNet graph of one call: rows [negatives × N, prompts × N] with guidance. */
export interface Conditioning {
  /** [rows, 77, D]. */
  readonly encoderHiddenStates: Tensor<'float32'>;
  /** SDXL: [rows, projection_dim], the pooled projection of text_encoder_2. */
  readonly textEmbeds?: Tensor<'float32'>;
  /** SDXL: [rows, 6], original size, crop, target size. */
  readonly timeIds?: Tensor<'float32'>;
}

/**
 * The graph feeds of a conditioning: `encoder_hidden_states` (+ `text_embeds`, `time_ids`).
 *
 * @example
 * session.run({ ...conditioningFeeds(await pipe.conditioning(r)), sample, timestep }, ['noise_pred']);
 */
export function conditioningFeeds(c: Conditioning): Record<string, Tensor> {
  return { encoder_hidden_states: c.encoderHiddenStates, ...(c.textEmbeds ? { text_embeds: c.textEmbeds } : {}), ...(c.timeIds ? { time_ids: c.timeIds } : {}) };
}

/** Runs a text encoder graph of `kind` (built on first use) with the pipeline's sessions. */
export type UseTextGraph = <T>(kind: string, build: () => Graph, components: readonly ComponentPrefix[], fn: (s: Session) => Promise<T>, onProgress: ProgressCallback | undefined) => Promise<T>;

function weightsScope(w: PipelineComponents['weights']['text_encoder']): string {
  return [...w.identity.map((f) => f.headerSha256), ...(w.lora?.adapters ?? []).map((a) => `lora:${a.sha256}*${a.scale}`)].join('+');
}

/**
 * The prompt encoder of a folder: one graph for SD, two for SDXL (their outputs joined as encode_prompt does). The
 * cache scope names every encoder's weights (adapters included), so a shared cache never mixes models.
 *
 * @example
 * const encoder = createPromptEncoder(components, use, settings, new PromptEmbeddingCache(), 'model/text_encoder');
 */
export function createPromptEncoder(c: PipelineComponents, use: UseTextGraph, s: BuildSettings, cache: PromptEmbeddingCache, where: string, loraScales?: () => readonly number[]): PromptEncoder {
  // Adapter nodes in a text encoder change its output with the scales (setLoraScales): they join the scope then.
  const nodes = loraScales && [c.weights.text_encoder, c.weights.text_encoder_2].some((w) => w?.lora?.mode === 'nodes');
  const scoped = (scope: string): string | (() => string) => (nodes ? () => `${scope}#lora-scales:${loraScales().join(',')}` : scope);
  const length = c.tokenizer.maxLength;
  const run = (kind: string, build: () => Graph, components: readonly ComponentPrefix[], ids: Tensor<'int64'>, names: string[], call: EncodeCall) =>
    use(kind, build, components, (session) => runUnlessAborted(session, { input_ids: ids }, names, call.signal), call.onProgress);
  const second = c.text2;
  const w2 = c.weights.text_encoder_2;
  if (!second || !w2) {
    const encode = async ([ids]: readonly Tensor<'int64'>[], call: EncodeCall) => ({
      embeds: (await run('text-encoder', () => textEncoderGraph(c.textConfig, length, s), TEXT_COMPONENTS, ids!, ['prompt_embeds'], call)).prompt_embeds,
    });
    return new PromptEncoder([c.tokenizer], encode, cache, scoped(`${c.source.id}#${weightsScope(c.weights.text_encoder)}`), where);
  }
  const encode = async ([ids1, ids2]: readonly Tensor<'int64'>[], call: EncodeCall) => {
    const one = await run('text-encoder-penultimate', () => textEncoderGraph(c.textConfig, length, s, { hidden: 'penultimate' }), TEXT_COMPONENTS, ids1!, ['prompt_embeds'], call);
    const two = await run('text-encoder-2', () => textEncoderGraph(second.config, length, s, { hidden: 'penultimate', textEmbeds: true }), TEXT_2_COMPONENTS, ids2!, ['prompt_embeds', 'text_embeds'], call);
    const [a, b] = [one.prompt_embeds, two.prompt_embeds];
    return { embeds: a && b ? concatLastAxis(a, b) : undefined, pooled: two.text_embeds };
  };
  const scope = `${c.source.id}#sdxl#${weightsScope(c.weights.text_encoder)}#${weightsScope(w2)}`;
  return new PromptEncoder([c.tokenizer, second.tokenizer], encode, cache, scoped(scope), where, second.config.projection_dim);
}

/** `torch.concat([a, b], dim=-1)` of two float32 tensors alike but for their last axis. */
function concatLastAxis(a: Tensor, b: Tensor): Tensor<'float32'> | undefined {
  if (!(a.data instanceof Float32Array) || !(b.data instanceof Float32Array)) return undefined;
  const [da, db] = [a.shape[a.rank - 1]!, b.shape[b.rank - 1]!];
  const rows = a.size / da;
  if (b.size / db !== rows) return undefined;
  const out = new Float32Array(rows * (da + db));
  for (let r = 0; r < rows; r++) {
    out.set(a.data.subarray(r * da, (r + 1) * da), r * (da + db));
    out.set(b.data.subarray(r * db, (r + 1) * db), r * (da + db) + da);
  }
  return new Tensor('float32', [...a.shape.slice(0, -1), da + db], out);
}

/** `x or fallback` as Python reads a prompt argument: absent or all-empty falls back. */
function orElse(v: readonly string[] | undefined, fallback: readonly string[]): readonly string[] {
  return v === undefined || v.every((p) => p === '') ? fallback : v;
}

function zerosLike(t: Tensor<'float32'>): Tensor<'float32'> {
  return new Tensor('float32', t.shape, new Float32Array(t.size));
}

/**
 * The conditioning of a checked request on `c`'s folder: prompts (and, with guidance, negatives) encoded, repeated
 * for the images per prompt, and for SDXL the pooled embeddings and time ids (`mode` picks img2img's negative
 * defaults). SDXL-only fields on an SD folder are refused.
 *
 * @example
 * const cond = await requestConditioning(c, encoder, r, 'text-to-image');
 */
export async function requestConditioning(c: PipelineComponents, encoder: PromptEncoder, r: CheckedRequest, mode: 'text-to-image' | 'img2img'): Promise<Conditioning> {
  const n = r.numImagesPerPrompt;
  if (!c.text2) {
    const given = sdxlFieldsGiven(r.sdxl);
    if (given.length > 0) throw new RangeError(`generate: "${given[0]}" is SDXL conditioning; ${c.source.id} is a ${c.index.pipelineClass} (one text encoder)`);
    const cond = repeatRows((await encoder.encode([r.prompts], r)).embeds, n);
    return { encoderHiddenStates: r.guidance ? concatRows(repeatRows((await encoder.encode([r.negativePrompts], r)).embeds, n), cond) : cond };
  }
  const pos = await encoder.encode([r.prompts, orElse(r.sdxl.prompts2, r.prompts)], r);
  const { positive, negative } = sdxlTimeIds(r.sdxl, { width: r.width, height: r.height }, mode);
  const withPooled = (e: EncodedPrompts) => ({ embeds: repeatRows(e.embeds, n), pooled: repeatRows(e.pooled!, n) });
  const cond = withPooled(pos);
  // add_time_ids: torch.cat([negative, positive]).repeat(batch, 1) — the two rows alternate, whatever the batch.
  const ids = r.guidance ? [...negative, ...positive] : positive;
  const timeIds = new Tensor('float32', [r.batch * (r.guidance ? 2 : 1), 6], Float32Array.from({ length: r.batch * ids.length }, (_, i) => ids[i % ids.length]!));
  if (!r.guidance) return { encoderHiddenStates: cond.embeds, textEmbeds: cond.pooled, timeIds };
  const uncond =
    c.index.forceZerosForEmptyPrompt && !r.negativeGiven
      ? { embeds: zerosLike(cond.embeds), pooled: zerosLike(cond.pooled) }
      : withPooled(await encoder.encode([r.negativePrompts, orElse(r.sdxl.negativePrompts2, r.negativePrompts)], r));
  return { encoderHiddenStates: concatRows(uncond.embeds, cond.embeds), textEmbeds: concatRows(uncond.pooled, cond.pooled), timeIds };
}
