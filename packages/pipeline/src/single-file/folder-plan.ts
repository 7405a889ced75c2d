/**
 * What the virtual diffusers folder of a single-file checkpoint holds: model_index.json; each component's
 * config.json (the `config` folder's file as it is, else made from the weights' shapes and the family's defaults)
 * and weights (the file's tensors under diffusers' names); the scheduler's config; the tokenizers.
 */
import { parsePythonJson } from '@sdxs/schedulers';
import type { ModelSource } from '@sdxs/tensor';
import { textConfigFromShapes, unetConfigFromShapes, vaeConfigFromShapes, type Shapes } from './config-from-shapes.js';
import { SingleFileError, type CheckpointFamily } from './identify.js';
import type { ComponentTensors } from './ldm-to-diffusers.js';
import { planTokenizers, type FetchTokenizers, type TokenizerEntry } from './tokenizers.js';
import type { VirtualTensor } from './virtual-file.js';

/** One file of the virtual folder. */
export type VirtualEntry = { readonly text: string } | { readonly tensors: readonly VirtualTensor[] } | TokenizerEntry;

export interface FolderPlan {
  readonly entries: Map<string, VirtualEntry>;
  /** The config files made from shapes and defaults rather than taken from `config`. */
  readonly derived: string[];
}

/**
 * SD 1.5's scheduler_config.json settings (scaled_linear 0.00085–0.012, "leading", epsilon; keys in its order), run
 * by Euler: sdxs has no PNDM, the class SD 1.5 names.
 */
const DEFAULT_SCHEDULER = {
  _class_name: 'EulerDiscreteScheduler',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  num_train_timesteps: 1000,
  prediction_type: 'epsilon',
  steps_offset: 1,
  timestep_spacing: 'leading',
};

const json = (o: unknown) => `${JSON.stringify(o, null, 2)}\n`;

const shapesOf = (tensors: readonly VirtualTensor[]): Shapes => new Map(tensors.map((t) => [t.name, t.shape]));

/** A JSON object file of `source` (Python's JSON: Infinity and NaN allowed), or undefined when absent. */
async function readJson(source: ModelSource | undefined, path: string): Promise<Record<string, unknown> | undefined> {
  if (!source || !(await source.exists(path))) return undefined;
  const v = parsePythonJson(await source.readText(path));
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/**
 * Stable Diffusion's GroupNorm has 32 groups, which shapes cannot show: channels it does not divide mean a model of
 * other sizes, whose config must be given.
 */
function sdGroups(config: Record<string, unknown>, dir: string): Record<string, unknown> {
  const channels = config.block_out_channels as number[];
  if (channels.every((c) => c % 32 === 0)) return config;
  throw new SingleFileError(
    `its ${dir}'s channels (${channels.join(', ')}) are not Stable Diffusion's (32 GroupNorm groups do not divide them), so its config cannot be read from the shapes: give a diffusers folder of the same model as config (--config <folder|repo id>)`,
  );
}

/** Where `config` keeps the component's config.json: an SDXS folder's vae/ is the tiny decoder, its AutoencoderKL vae_large/. */
async function configFile(config: ModelSource | undefined, dir: string): Promise<string | undefined> {
  const own = await readJson(config, `${dir}/config.json`);
  if (!own) return undefined;
  if (dir !== 'vae' || own._class_name === 'AutoencoderKL') return `${dir}/config.json`;
  return (await readJson(config, 'vae_large/config.json'))?._class_name === 'AutoencoderKL' ? 'vae_large/config.json' : undefined;
}

/**
 * Plan the folder for a checkpoint's converted tensors.
 *
 * @example
 * const { entries, derived } = await planFolder('sd1', ldmToDiffusers(…), config, fetchTokenizers);
 */
export async function planFolder(family: CheckpointFamily, parts: ComponentTensors, config: ModelSource | undefined, fetch: FetchTokenizers | undefined): Promise<FolderPlan> {
  const entries = new Map<string, VirtualEntry>();
  const derived: string[] = [];
  const texts = parts.text_encoder_2 ? ['text_encoder', 'text_encoder_2'] : ['text_encoder'];
  const pooled = parts.text_encoder_2 ? shapesOf(parts.text_encoder_2).get('text_projection.weight')?.[0] : undefined;
  // Made only where `config` has none: a model of other sizes may need its own.
  const fromShapes: Record<string, () => Record<string, unknown>> = {
    unet: () => sdGroups(unetConfigFromShapes(shapesOf(parts.unet!), family, pooled), 'unet'),
    vae: () => sdGroups(vaeConfigFromShapes(shapesOf(parts.vae!), family), 'vae'),
    text_encoder: () => textConfigFromShapes(shapesOf(parts.text_encoder!), family === 'sd2'),
    text_encoder_2: () => textConfigFromShapes(shapesOf(parts.text_encoder_2!), true),
  };
  for (const dir of ['unet', 'vae', ...texts]) {
    const file = `${dir}/config.json`;
    const own = await configFile(config, dir);
    if (own && config) entries.set(file, { from: config, path: own });
    else {
      derived.push(file);
      entries.set(file, { text: json(fromShapes[dir]!()) });
    }
    entries.set(`${dir}/${dir.startsWith('text') ? 'model.safetensors' : 'diffusion_pytorch_model.safetensors'}`, { tensors: parts[dir]! });
  }
  const schedulerFile = 'scheduler/scheduler_config.json';
  const scheduler = await readJson(config, schedulerFile);
  if (scheduler && config) entries.set(schedulerFile, { from: config, path: schedulerFile });
  else {
    derived.push(schedulerFile);
    entries.set(schedulerFile, { text: json(DEFAULT_SCHEDULER) });
  }
  for (const [path, entry] of await planTokenizers(family, texts.map((t) => t.replace('text_encoder', 'tokenizer')), config, fetch)) entries.set(path, entry);
  const index = await readJson(config, 'model_index.json');
  const schedulerClass = (Array.isArray(index?.scheduler) ? index.scheduler[1] : undefined) ?? scheduler?._class_name ?? DEFAULT_SCHEDULER._class_name;
  entries.set('model_index.json', {
    text: json({
      _class_name: family === 'sdxl' ? 'StableDiffusionXLPipeline' : 'StableDiffusionPipeline',
      _diffusers_version: '0.31.0',
      scheduler: ['diffusers', schedulerClass],
      text_encoder: ['transformers', 'CLIPTextModel'],
      tokenizer: ['transformers', 'CLIPTokenizer'],
      unet: ['diffusers', 'UNet2DConditionModel'],
      vae: ['diffusers', 'AutoencoderKL'],
      ...(parts.text_encoder_2 ? { text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'], tokenizer_2: ['transformers', 'CLIPTokenizer'] } : {}),
      ...(typeof index?.force_zeros_for_empty_prompt === 'boolean' ? { force_zeros_for_empty_prompt: index.force_zeros_for_empty_prompt } : {}),
    }),
  });
  return { entries, derived };
}
