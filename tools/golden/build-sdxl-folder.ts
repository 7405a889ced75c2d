/**
 * A tiny SDXL folder (diffusers' StableDiffusionXLPipeline layout) assembled in a temp dir from ../shared/golden
 * components, for the pipeline's and the CLI's SDXL tests. Widths: text_encoder 16 (seeded random weights written
 * here, config like `text-clip-l`'s), text_encoder_2 `text-open-clip-proj` (32, projection_dim 16), so the context is
 * 48 = `unet-sdxl`'s cross_attention_dim and 6 × 8 + 16 = 64 its projection_class_embeddings_input_dim; `vae-kl` has
 * two blocks, a 2× scale factor: the U-Net's sample_size 16 gives 32 × 32 images. With `controlnet`, an SDXL
 * ControlNetModel from unet-sdxl's config (ControlNetModel.from_unet's fields) with seeded weights.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clipTextModel, parseCLIPTextConfig } from '@sdxs/clip';
import { buildControlNetGraph, controlNetConfigFromUNet, parseControlNetConfig } from '@sdxs/control';
import { Graph } from '@sdxs/graph';
import { LocalFolderSource } from '@sdxs/runtime-node';
import { Generator, Tensor, type ModelSource } from '@sdxs/tensor';
import { writeSafetensorsFile } from '@sdxs/tensor/node';
import { parseUNetConfig } from '@sdxs/unet';
import { resolveGoldenPath } from './links.js';

const GOLDEN = fileURLToPath(new URL('../../../shared/golden/', import.meta.url));
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
 * const folder = await buildSdxlFolder({ controlnet: true }); try { … } finally { folder.cleanup(); }
 */
export async function buildSdxlFolder(o: SdxlFolderOptions = {}): Promise<SdxlFolder> {
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

