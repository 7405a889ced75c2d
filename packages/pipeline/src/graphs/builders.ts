/**
 * The graphs a pipeline runs. Every graph's inputs and outputs are float32 (or int64 ids / uint8 pixels)
 * whatever the compute dtype, so the TypeScript side never converts halves:
 *
 * - `text-encoder`: input_ids [batch, 77] → prompt_embeds (CLIP's last_hidden_state; SDXL's encoders: the
 *   penultimate hidden state, and text_embeds from the second);
 * - `one-step`: latents (already × init_noise_sigma) + prompt embeddings → image and RGBA: scale, U-Net,
 *   guidance, the scheduler step folded into constants, decode, postprocess — the whole SDXS step;
 * - `unet-step`: one U-Net evaluation with guidance (multi-step sampling runs the scheduler in TypeScript);
 * - `decode`: final latents → image and RGBA.
 */
import { Cast, Div, Graph, Mul, Params, ReduceSum, type LoweringOverrides, type Target, type Value } from '@sdxs/graph';
import { clipTextModel, type CLIPTextConfig } from '@sdxs/clip';
import { Tensor } from '@sdxs/tensor';
import type { UNet2DConditionConfig } from '@sdxs/unet';
import type { PipelineVae } from '../model/vae.js';
import type { AddedConditionShape } from '../model/text-conditioning.js';
import { foldedStep, guidedNoisePrediction, type FoldedStep } from './denoise.js';
import { postprocessImages } from './postprocess.js';
import type { ComponentPrefix } from './packed-graph.js';

/** Backend and precision of the graphs. */
export interface BuildSettings {
  readonly target: Target;
  /** Compute dtype of the U-Net and decoder (the text encoder stays float32). */
  readonly dtype: 'float32' | 'float16';
  readonly lowering?: LoweringOverrides;
}

/** Static sizes of an image graph. */
export interface ImageGraphShape {
  /** Images per run (prompts × images per prompt). */
  readonly batch: number;
  readonly latentHeight: number;
  readonly latentWidth: number;
  /** Classifier-free guidance: embeddings come as [2·batch, …] and a guidance_scale input is added. */
  readonly guidance: boolean;
}

/** Parameter prefixes of the image graphs' components (the text encoder graph uses the checkpoint's own root). */
export const UNET_COMPONENTS: readonly ComponentPrefix[] = [{ component: 'unet', prefix: 'unet.' }];
export const VAE_COMPONENTS: readonly ComponentPrefix[] = [{ component: 'vae', prefix: 'vae.' }];
export const IMAGE_COMPONENTS: readonly ComponentPrefix[] = [...UNET_COMPONENTS, ...VAE_COMPONENTS];
export const TEXT_COMPONENTS: readonly ComponentPrefix[] = [{ component: 'text_encoder', prefix: '' }];
/** SDXL's second text encoder (its own graph, also under the checkpoint's root). */
export const TEXT_2_COMPONENTS: readonly ComponentPrefix[] = [{ component: 'text_encoder_2', prefix: '' }];

/** An empty graph for the settings' target and lowering. */
export function newGraph(name: string, s: BuildSettings): Graph {
  return new Graph({ name, target: s.target, ...(s.lowering ? { lowering: s.lowering } : {}) });
}

/** The VAE's compute dtype: float16 pipelines keep a `force_upcast` VAE in float32, as diffusers does. */
export function vaeDType(vae: PipelineVae, s: BuildSettings): 'float32' | 'float16' {
  return s.dtype === 'float16' && !vae.forceUpcast ? 'float16' : 'float32';
}

/** Which of a CLIP encoder's outputs a text encoder graph gives. */
export interface TextEncoderOutputs {
  /**
   * `prompt_embeds` is `last` (the last hidden state after final_layer_norm: SD) or `penultimate`
   * (`hidden_states[-2]`, before the final norm: each SDXL encoder, clip_skip none).
   */
  readonly hidden: 'last' | 'penultimate';
  /** Also `text_embeds`, the projected pooled output (SDXL's text_encoder_2). */
  readonly textEmbeds?: boolean;
}

/**
 * CLIP text encoder: `input_ids` int64 [batch, length] → `prompt_embeds` float32 [batch, length, hidden] (+
 * `text_embeds` [batch, projection_dim]).
 *
 * @example
 * const g = textEncoderGraph(config, 77, { target: 'cpu', dtype: 'float32' });
 * const second = textEncoderGraph(config2, 77, settings, { hidden: 'penultimate', textEmbeds: true }); // SDXL's text_encoder_2
 */
export function textEncoderGraph(config: CLIPTextConfig, length: number, s: BuildSettings, outputs: TextEncoderOutputs = { hidden: 'last' }): Graph {
  const g = newGraph('text_encoder', s);
  const out = clipTextModel(g, g.input('input_ids', 'int64', ['batch', length]), config, outputs.textEmbeds ? { withProjection: true } : {});
  const hidden = outputs.hidden === 'last' ? out.lastHiddenState : out.hiddenStates[out.hiddenStates.length - 2];
  if (!hidden) throw new Error('textEncoderGraph: the penultimate hidden state needs at least one encoder layer');
  g.output(hidden, 'prompt_embeds');
  if (outputs.textEmbeds) g.output(out.textEmbeds!, 'text_embeds');
  return g;
}

/** What the image graphs need of the U-Net and the text side that conditions it. */
export interface UNetSide {
  readonly config: UNet2DConditionConfig;
  /** encoder_hidden_states width (the text encoder's hidden size; SDXL: both encoders' together). */
  readonly contextDim: number;
  readonly contextLength: number;
  /** SDXL's `text_time` added condition: the graphs also take `text_embeds` and `time_ids`. */
  readonly added?: AddedConditionShape | undefined;
}

/**
 * The conditioning every U-Net (and ControlNet) graph is fed: `encoder_hidden_states`, plus SDXL's added
 * `text_embeds` and `time_ids` — [2B, …] with guidance (negative rows first), like the context.
 */
export interface ConditioningValues {
  readonly encoderHiddenStates: Value;
  readonly textEmbeds?: Value;
  readonly timeIds?: Value;
}

/**
 * The conditioning inputs of a graph for `shape`'s batch (doubled with guidance).
 *
 * @example
 * const cond = conditioningInputs(g, unetSide, shape); // cond.encoderHiddenStates, and for SDXL cond.textEmbeds, cond.timeIds
 */
export function conditioningInputs(g: Graph, u: UNetSide, shape: ImageGraphShape): ConditioningValues {
  const rows = shape.guidance ? 2 * shape.batch : shape.batch;
  const encoderHiddenStates = g.input('encoder_hidden_states', 'float32', [rows, u.contextLength, u.contextDim]);
  if (!u.added) return { encoderHiddenStates };
  return { encoderHiddenStates, textEmbeds: g.input('text_embeds', 'float32', [rows, u.added.textEmbedsDim]), timeIds: g.input('time_ids', 'float32', [rows, u.added.timeIds]) };
}

function unetInputs(g: Graph, u: UNetSide, shape: ImageGraphShape, sampleName: string): { sample: Value; context: ConditioningValues; guidanceScale?: Value } {
  const { batch, latentHeight: h, latentWidth: w } = shape;
  const sample = g.input(sampleName, 'float32', [batch, u.config.in_channels, h, w]);
  const context = conditioningInputs(g, u, shape);
  return shape.guidance ? { sample, context, guidanceScale: g.input('guidance_scale', 'float32', []) } : { sample, context };
}

/** `vae.decode(latents / scaling_factor)` and postprocessing, as graph outputs `image` and `rgba`. */
export function decodeAndPostprocess(g: Graph, vae: PipelineVae, latents: Value, s: BuildSettings): void {
  const dtype = vaeDType(vae, s);
  // StableDiffusionPipeline: vae.decode(latents / vae.config.scaling_factor); a float32 division, as in torch.
  const scaled = vae.scalingFactor === 1 ? latents : Div(latents, vae.scalingFactor);
  const decoded = vae.decode(new Params(g, 'vae', dtype), dtype === 'float32' ? scaled : Cast(scaled, dtype));
  const float = decoded.dtype === 'float32' ? decoded : Cast(decoded, 'float32');
  const { image, rgba } = postprocessImages(float);
  g.output(image, 'image');
  g.output(rgba, 'rgba');
  g.output(finiteCheck(float), 'vae_check');
}

/**
 * Σ(x · 0): 0 when every value of x is finite, NaN when one is not (NaN · 0 and ∞ · 0 are NaN). The postprocessing
 * clamps NaN into black pixels, so the pipeline reads this scalar to report broken weights instead of a black image.
 */
export function finiteCheck(x: Value): Value {
  return ReduceSum(Mul(x.dtype === 'float32' ? x : Cast(x, 'float32'), 0), undefined, false);
}

/** The folded step with the timestep it runs at. */
export interface OneStep extends FoldedStep {
  readonly timestep: number;
}

/**
 * The whole one-step text-to-image path: `latents` [B, 4, h, w] (z · init_noise_sigma), `encoder_hidden_states`
 * (+ SDXL's `text_embeds`, `time_ids`; [2B, …] with guidance, plus `guidance_scale`), `noise` when the step is stochastic → `image` [B, H, W, 3]
 * float32 in [0, 1] and `rgba` [B, H, W, 4] uint8. The timestep is a constant, so the runtime folds the
 * time embedding away.
 *
 * @example
 * const g = oneStepGraph({ config, contextDim: 768, contextLength: 77 }, vae, step, { batch: 1, latentHeight: 64, latentWidth: 64, guidance: false }, settings);
 */
export function oneStepGraph(u: UNetSide, vae: PipelineVae, step: OneStep, shape: ImageGraphShape, s: BuildSettings): Graph {
  const g = newGraph('one_step', s);
  const { sample: latents, context, guidanceScale } = unetInputs(g, u, shape, 'latents');
  const noise = step.prevCoef.noise !== 0 ? g.input('noise', 'float32', [...latents.shape]) : undefined;
  stepAndDecode(g, u.config, vae, step, { latents, context, ...(guidanceScale ? { guidanceScale } : {}), ...(noise ? { noise } : {}) }, s);
  return g;
}

/**
 * The tail every one-step image graph shares: the guided U-Net at the step's constant timestep, its finite check
 * (`unet_check`), the folded scheduler step, the decoder and the postprocessing to `image` and `rgba`.
 */
export function stepAndDecode(
  g: Graph,
  config: UNet2DConditionConfig,
  vae: PipelineVae,
  step: OneStep,
  v: { readonly latents: Value; readonly context: ConditioningValues; readonly guidanceScale?: Value; readonly noise?: Value },
  s: BuildSettings,
): void {
  // scale_model_input: sample / divisor, in float32 (Euler: / sqrt(σ² + 1)).
  const modelInput = step.inputDivisor === 1 ? v.latents : Div(v.latents, step.inputDivisor);
  const timestep = g.constant(new Tensor('float32', [], Float32Array.of(step.timestep)), 'timestep');
  const eps = guidedNoisePrediction(new Params(g, 'unet', s.dtype), config, {
    sample: modelInput,
    timestep,
    ...v.context,
    ...(v.guidanceScale ? { guidanceScale: v.guidanceScale } : {}),
  });
  g.output(finiteCheck(eps), 'unet_check');
  decodeAndPostprocess(g, vae, foldedStep(step, v.latents, eps, v.noise), s);
}

/**
 * One guided U-Net evaluation for multi-step sampling: `sample` (the scaled model input), `timestep` float32 [],
 * `encoder_hidden_states` (+ `text_embeds`, `time_ids` for SDXL; + `guidance_scale`) → `noise_pred` float32 [B, C, h, w].
 */
export function unetStepGraph(u: UNetSide, shape: ImageGraphShape, s: BuildSettings): Graph {
  const g = newGraph('unet_step', s);
  const { sample, context, guidanceScale } = unetInputs(g, u, shape, 'sample');
  const timestep = g.input('timestep', 'float32', []);
  const eps = guidedNoisePrediction(new Params(g, 'unet', s.dtype), u.config, {
    sample,
    timestep,
    ...context,
    ...(guidanceScale ? { guidanceScale } : {}),
  });
  g.output(eps, 'noise_pred');
  return g;
}

/** Final latents [B, C, h, w] → `image` and `rgba`, as the one-step graph ends. */
export function decodeGraph(vae: PipelineVae, shape: Omit<ImageGraphShape, 'guidance'>, s: BuildSettings): Graph {
  const g = newGraph('decode', s);
  const latents = g.input('latents', 'float32', [shape.batch, vae.latentChannels, shape.latentHeight, shape.latentWidth]);
  decodeAndPostprocess(g, vae, latents, s);
  return g;
}
