/**
 * A tiny SDXL folder (StableDiffusionXLPipeline layout) assembled in a temp dir from ../shared/golden components,
 * and the independent composition the pipeline is checked against. Widths: text_encoder 16 (seeded random weights
 * written here, config like `text-clip-l`'s), text_encoder_2 `text-open-clip-proj` (32, projection_dim 16), so the
 * context is 48 = `unet-sdxl`'s cross_attention_dim and 6 × 8 + 16 = 64 its projection_class_embeddings_input_dim;
 * `vae-kl` has two blocks, a 2× scale factor: the U-Net's sample_size 16 gives 32 × 32 images.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIPTokenizer, clipBindOptions, clipTextModel, parseCLIPTextConfig } from '@sdxs/clip';
import { buildControlNetGraph, controlNetConfigFromUNet, parseControlNetConfig } from '@sdxs/control';
import { Graph } from '@sdxs/graph';
import { LocalFolderSource } from '@sdxs/runtime-node';
import { schedulerFromConfig } from '@sdxs/schedulers';
import { Generator, Tensor, type ModelSource, type Runtime } from '@sdxs/tensor';
import { writeSafetensorsFile } from '@sdxs/tensor/node';
import { loadUNet, parseUNetConfig, UNET_OUTPUT } from '@sdxs/unet';
import { resolveGoldenPath } from '../../../tools/golden/links.js';
import { bindFolder, decodeToImage, float32, runOnce, scaled } from '../../../tools/golden/unfused.js';
import { GOLDEN } from './_helpers.js';

const TOKENIZER = join(GOLDEN, '..', 'clip-tokenizer');
const golden = (c: string, f: string) => resolveGoldenPath(join(GOLDEN, c, f));
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

/** SDXL's scheduler config (stabilityai/stable-diffusion-xl-base-1.0): Euler, "leading" spacing, steps_offset 1. */
export const SDXL_SCHEDULER = {
  _class_name: 'EulerDiscreteScheduler',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  interpolation_type: 'linear',
  num_train_timesteps: 1000,
  prediction_type: 'epsilon',
  sample_max_value: 1.0,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  timestep_spacing: 'leading',
  trained_betas: null,
  use_karras_sigmas: false,
};

export interface SdxlFolder {
  readonly path: string;
  readonly source: ModelSource;
  cleanup(): void;
}

/** Seeded weights for every parameter of `g`: matrices ~ N(0, 1/fan_in), norm scales ~ 1 + 0.1·N, biases 0.1·N (golden's recipe). */
function randomWeights(g: Graph, seed: number): Record<string, Tensor> {
  const gen = new Generator(seed);
  const out: Record<string, Tensor> = {};
  for (const name of [...g.parameterNames].sort()) {
    const shape = g.initializers.get(name)!.shape;
    const z = gen.randn([...shape]).data;
    const isNorm = /(norm|layer_norm)\d*\.weight$/.test(name) || /final_layer_norm\.weight$/.test(name);
    const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
    const v = shape.length === 1 ? (isNorm ? z.map((x) => 1 + 0.1 * x) : z.map((x) => 0.1 * x)) : z.map((x) => x / Math.sqrt(fanIn));
    out[name] = new Tensor('float32', shape, Float32Array.from(v));
  }
  return out;
}

/** `text-clip-l`'s config at width 16 (2 heads): the first encoder. */
function textEncoderConfig(): Record<string, unknown> {
  return { ...readJson(golden('text-clip-l', 'config.json')), hidden_size: 16, intermediate_size: 32, num_attention_heads: 2 };
}

export interface SdxlFolderOptions {
  /** Fields added to model_index.json (e.g. force_zeros_for_empty_prompt). */
  readonly index?: Record<string, unknown>;
  /** Add controlnet/: an SDXL ControlNetModel from unet-sdxl's config, seeded weights. */
  readonly controlnet?: boolean;
  /** Replace a config: text_encoder/config.json, unet/config.json… */
  readonly configs?: Record<string, Record<string, unknown>>;
}

/**
 * Write the SDXL folder.
 *
 * @example
 * const folder = await sdxlFolder({ controlnet: true }); try { … } finally { folder.cleanup(); }
 */
export async function sdxlFolder(o: SdxlFolderOptions = {}): Promise<SdxlFolder> {
  const root = mkdtempSync(join(tmpdir(), 'sdxs-sdxl-'));
  const cleanup = () => rmSync(root, { recursive: true, force: true });
  try {
    const at = (p: string) => join(root, p);
    for (const d of ['text_encoder', 'text_encoder_2', 'tokenizer', 'tokenizer_2', 'unet', 'vae', 'scheduler']) mkdirSync(at(d));
    const json = (p: string, v: unknown) => writeFileSync(at(p), JSON.stringify(o.configs?.[p] ?? v, null, 2));
    const link = (from: string, to: string) => symlinkSync(from, at(to));
    json('model_index.json', {
      _class_name: o.controlnet ? 'StableDiffusionXLControlNetPipeline' : 'StableDiffusionXLPipeline',
      _diffusers_version: '0.40.0.dev0',
      force_zeros_for_empty_prompt: true,
      feature_extractor: [null, null],
      image_encoder: [null, null],
      scheduler: ['diffusers', 'EulerDiscreteScheduler'],
      text_encoder: ['transformers', 'CLIPTextModel'],
      text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
      tokenizer: ['transformers', 'CLIPTokenizer'],
      tokenizer_2: ['transformers', 'CLIPTokenizer'],
      unet: ['diffusers', 'UNet2DConditionModel'],
      vae: ['diffusers', 'AutoencoderKL'],
      ...(o.controlnet ? { controlnet: ['diffusers', 'ControlNetModel'] } : {}),
      ...o.index,
    });
    json('scheduler/scheduler_config.json', SDXL_SCHEDULER);
    for (const [dir, pad] of [['tokenizer', '<|endoftext|>'], ['tokenizer_2', '!']] as const) {
      link(join(TOKENIZER, 'vocab.json'), `${dir}/vocab.json`);
      link(join(TOKENIZER, 'merges.txt'), `${dir}/merges.txt`);
      json(`${dir}/tokenizer_config.json`, { bos_token: '<|startoftext|>', eos_token: '<|endoftext|>', pad_token: pad, unk_token: '<|endoftext|>', model_max_length: 77, tokenizer_class: 'CLIPTokenizer' });
    }
    const te = textEncoderConfig();
    json('text_encoder/config.json', te);
    const g = new Graph({ name: 'te' });
    clipTextModel(g, g.input('input_ids', 'int64', [1, 77]), parseCLIPTextConfig(te, 'te'));
    await writeSafetensorsFile(at('text_encoder/model.safetensors'), randomWeights(g, 16));
    link(golden('text-open-clip-proj', 'config.json'), 'text_encoder_2/config.json');
    link(golden('text-open-clip-proj', 'model.safetensors'), 'text_encoder_2/model.safetensors');
    if (o.configs?.['unet/config.json'] === undefined) link(golden('unet-sdxl', 'config.json'), 'unet/config.json');
    else json('unet/config.json', undefined);
    link(golden('unet-sdxl', 'model.safetensors'), 'unet/diffusion_pytorch_model.safetensors');
    link(golden('vae-kl', 'config.json'), 'vae/config.json');
    link(golden('vae-kl', 'model.safetensors'), 'vae/diffusion_pytorch_model.safetensors');
    if (o.controlnet) {
      mkdirSync(at('controlnet'));
      const cn = { _class_name: 'ControlNetModel', ...controlNetConfigFromUNet(parseUNetConfig(readJson(golden('unet-sdxl', 'config.json')), 'unet'), { conditioningEmbeddingOutChannels: [8, 16] }) };
      json('controlnet/config.json', cn);
      const graph = buildControlNetGraph(parseControlNetConfig(cn, 'controlnet'), { height: 16, width: 16, batch: 1 }).graph;
      await writeSafetensorsFile(at('controlnet/diffusion_pytorch_model.safetensors'), randomWeights(graph, 7));
    }
    return { path: root, source: new LocalFolderSource(root), cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

/** What the reference composition is asked for (diffusers' StableDiffusionXLPipeline.__call__ arguments). */
export interface SdxlCall {
  readonly prompt: string;
  readonly prompt2?: string;
  /** undefined: not given (force_zeros_for_empty_prompt applies). */
  readonly negativePrompt?: string;
  readonly steps: number;
  readonly guidanceScale: number;
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  /** (height, width, top, left, height, width): default from the size. */
  readonly timeIds?: readonly number[];
  readonly forceZeros?: boolean;
}

/** One encoder's hidden_states[-2] (and text_embeds), run as its own @sdxs/clip graph. */
export async function encoderOutputs(runtime: Runtime, source: ModelSource, dir: string, ids: Tensor<'int64'>): Promise<{ hidden: Tensor<'float32'>; textEmbeds?: Tensor<'float32'> }> {
  const config = parseCLIPTextConfig(JSON.parse(await source.readText(`${dir}/config.json`)), dir);
  const g = new Graph({ name: dir });
  const out = clipTextModel(g, g.input('input_ids', 'int64', [...ids.shape]), config);
  g.output(out.hiddenStates[out.hiddenStates.length - 2]!, 'hidden');
  if (out.textEmbeds) g.output(out.textEmbeds, 'text_embeds');
  const r = await runOnce(runtime, await bindFolder(g, source, dir, clipBindOptions), { input_ids: ids });
  return { hidden: float32(r.hidden, 'hidden'), ...(r.text_embeds ? { textEmbeds: float32(r.text_embeds, 'text_embeds') } : {}) };
}

/** encode_prompt for one prompt pair: [1, 77, 48] and the pooled [1, 16]. */
export async function encodePair(runtime: Runtime, source: ModelSource, prompt: string, prompt2: string): Promise<{ embeds: Tensor<'float32'>; pooled: Tensor<'float32'> }> {
  const t1 = await CLIPTokenizer.fromSource(source, 'tokenizer');
  const t2 = await CLIPTokenizer.fromSource(source, 'tokenizer_2');
  const a = await encoderOutputs(runtime, source, 'text_encoder', t1.call([prompt]).inputIds);
  const b = await encoderOutputs(runtime, source, 'text_encoder_2', t2.call([prompt2]).inputIds);
  const [da, db] = [a.hidden.shape[2]!, b.hidden.shape[2]!];
  const data = new Float32Array(77 * (da + db));
  for (let t = 0; t < 77; t++) {
    data.set(a.hidden.data.subarray(t * da, (t + 1) * da), t * (da + db));
    data.set(b.hidden.data.subarray(t * db, (t + 1) * db), t * (da + db) + da);
  }
  return { embeds: new Tensor('float32', [1, 77, da + db], data), pooled: b.textEmbeds! };
}

const cat = (a: Tensor<'float32'>, b: Tensor<'float32'>) => {
  const data = new Float32Array(a.size + b.size);
  data.set(a.data);
  data.set(b.data, a.size);
  return new Tensor('float32', [a.shape[0]! + b.shape[0]!, ...a.shape.slice(1)], data);
};

/** The conditioning rows of one call: [negative, positive] with guidance. */
export async function referenceConditioning(runtime: Runtime, source: ModelSource, c: SdxlCall): Promise<Record<string, Tensor<'float32'>>> {
  const pos = await encodePair(runtime, source, c.prompt, c.prompt2 || c.prompt);
  const ids = c.timeIds ?? [c.height, c.width, 0, 0, c.height, c.width];
  const timeIds = (n: number) => new Tensor('float32', [n, 6], Float32Array.from({ length: 6 * n }, (_, i) => ids[i % 6]!));
  if (c.guidanceScale <= 1) return { encoder_hidden_states: pos.embeds, text_embeds: pos.pooled, time_ids: timeIds(1) };
  const zeros = (t: Tensor<'float32'>) => new Tensor('float32', t.shape, new Float32Array(t.size));
  const neg = c.negativePrompt === undefined && c.forceZeros !== false ? { embeds: zeros(pos.embeds), pooled: zeros(pos.pooled) } : await encodePair(runtime, source, c.negativePrompt ?? '', c.negativePrompt ?? '');
  return { encoder_hidden_states: cat(neg.embeds, pos.embeds), text_embeds: cat(neg.pooled, pos.pooled), time_ids: timeIds(2) };
}

/** The U-Net with guidance: the batch doubled, `uncond + g·(cond − uncond)` in float32. */
export async function guidedEps(runtime: Runtime, source: ModelSource, cond: Record<string, Tensor<'float32'>>, sample: Tensor<'float32'>, t: number, g: number, extra: Record<string, Tensor> = {}): Promise<Tensor<'float32'>> {
  const [, ch, h, w] = sample.shape as [number, number, number, number];
  const guided = g > 1;
  const unet = await loadUNet(source, 'unet', { batch: guided ? 2 : 1, height: h, width: w, timestep: 'scalar', controlnet: Object.keys(extra).length > 0 });
  const input = guided ? cat(sample, sample) : sample;
  const out = float32((await runOnce(runtime, unet.graph, { ...cond, ...extra, sample: input, timestep: new Tensor('float32', [], Float32Array.of(t)) }))[UNET_OUTPUT], 'U-Net');
  if (!guided) return out;
  const n = ch * h * w;
  const eps = new Float32Array(n);
  for (let i = 0; i < n; i++) eps[i] = Math.fround(out.data[i]! + Math.fround(g * Math.fround(out.data[n + i]! - out.data[i]!)));
  return new Tensor('float32', [1, ch, h, w], eps);
}

/**
 * StableDiffusionXLPipeline.__call__ for one prompt, composed from separately tested parts: @sdxs/clip encoders,
 * @sdxs/unet's U-Net, @sdxs/schedulers' Euler, @sdxs/decoder's VAE (via tools/golden/unfused.ts). → [1, H, W, 3].
 */
export async function referenceImage(runtime: Runtime, source: ModelSource, c: SdxlCall): Promise<Tensor<'float32'>> {
  const cond = await referenceConditioning(runtime, source, c);
  const scheduler = schedulerFromConfig(SDXL_SCHEDULER, 'scheduler');
  scheduler.setTimesteps(c.steps);
  const gen = new Generator(c.seed);
  let latents = scaled(gen.randn([1, 4, c.height / 2, c.width / 2]), scheduler.initNoiseSigma);
  for (const t of scheduler.timesteps) {
    const eps = await guidedEps(runtime, source, cond, scheduler.scaleModelInput(latents, t), t, c.guidanceScale);
    latents = scheduler.step(eps, t, latents, { generator: gen }).prevSample;
  }
  return decodeToImage(runtime, source, 'vae', latents);
}
