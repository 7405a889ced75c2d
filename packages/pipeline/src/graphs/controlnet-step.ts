/**
 * The graphs of diffusers' `StableDiffusionControlNetPipeline` (pipelines/controlnet/pipeline_controlnet.py):
 * the ControlNet and the U-Net in one graph, the residuals passed as values rather than between sessions.
 *
 * - `controlnet-one-step`: latents (z · init_noise_sigma), prompt embeddings, the control image and the
 *   conditioning scale → image and RGBA: ControlNet + U-Net + the folded scheduler step + decoder, the whole
 *   SDXS sketch step. The scale is an input, so a slider never rebuilds the graph.
 * - `controlnet-unet-step`: one guided ControlNet + U-Net evaluation at a `timestep` input, for multi-step
 *   sampling with the scheduler in TypeScript.
 */
import { Cast, Concat, Div, Params, type Graph, type Value } from '@sdxs/graph';
import { controlNetModel, type ControlNetConfig } from '@sdxs/control';
import { Tensor } from '@sdxs/tensor';
import type { PipelineVae } from '../model/vae.js';
import {
  conditioningInputs,
  decodeAndPostprocess,
  finiteCheck,
  IMAGE_COMPONENTS,
  newGraph,
  UNET_COMPONENTS,
  type BuildSettings,
  type ConditioningValues,
  type ImageGraphShape,
  type OneStep,
  type UNetSide,
} from './builders.js';
import { foldedStep, guidedNoisePrediction } from './denoise.js';
import type { ComponentPrefix } from './packed-graph.js';

/** The ControlNet's parameters live under `controlnet.` in the pipeline's graphs. */
export const CONTROLNET_COMPONENTS: readonly ComponentPrefix[] = [{ component: 'controlnet', prefix: 'controlnet.' }];
export const CONTROLNET_IMAGE_COMPONENTS: readonly ComponentPrefix[] = [...CONTROLNET_COMPONENTS, ...IMAGE_COMPONENTS];
export const CONTROLNET_UNET_COMPONENTS: readonly ComponentPrefix[] = [...CONTROLNET_COMPONENTS, ...UNET_COMPONENTS];

/** What the graphs need of the U-Net side (as the text-to-image builders take it). */
export interface ControlledUNetSide extends UNetSide {
  readonly controlnet: ControlNetConfig;
}

/**
 * Pixels of the control image per latent along a side: the conditioning embedding halves it once per extra block.
 *
 * @example
 * controlImageFactor(config); // 8 for conditioning_embedding_out_channels [16, 32, 96, 256]
 */
export function controlImageFactor(c: ControlNetConfig): number {
  return 2 ** (c.conditioning_embedding_out_channels.length - 1);
}

interface ControlledInputs {
  readonly sample: Value;
  readonly context: ConditioningValues;
  readonly guidanceScale?: Value;
  readonly controlImage: Value;
  readonly conditioningScale: Value;
}

function controlledInputs(g: Graph, u: ControlledUNetSide, shape: ImageGraphShape, sampleName: string): ControlledInputs {
  const { batch, latentHeight: h, latentWidth: w } = shape;
  const f = controlImageFactor(u.controlnet);
  const sample = g.input(sampleName, 'float32', [batch, u.config.in_channels, h, w]);
  const context = conditioningInputs(g, u, shape);
  // prepare_image's output: [B, conditioning_channels, H, W] in [0, 1], RGB (a bgr ControlNet flips it itself).
  const controlImage = g.input('controlnet_cond', 'float32', [batch, u.controlnet.conditioning_channels, h * f, w * f]);
  const conditioningScale = g.input('conditioning_scale', 'float32', []);
  return { sample, context, controlImage, conditioningScale, ...(shape.guidance ? { guidanceScale: g.input('guidance_scale', 'float32', []) } : {}) };
}

/**
 * The loop body of StableDiffusionControlNetPipeline: ControlNet on the (doubled, with guidance) scaled latents
 * and control image, then the U-Net with its residuals and the guidance mix. `sample` is the scaled model input.
 */
function controlledNoisePrediction(g: Graph, u: ControlledUNetSide, s: BuildSettings, inputs: ControlledInputs, timestep: Value): Value {
  const { sample, context, guidanceScale, controlImage } = inputs;
  const twice = (v: Value): Value => (guidanceScale ? Concat([v, v], 0) : v);
  const cn = new Params(g, 'controlnet', s.dtype);
  // An SDXL ControlNet takes the U-Net's added condition too (StableDiffusionXLControlNetPipeline's added_cond_kwargs).
  const { downResiduals, midResidual } = controlNetModel(cn, u.controlnet, {
    sample: cast(twice(sample), s.dtype),
    timestep,
    encoderHiddenStates: cast(context.encoderHiddenStates, s.dtype),
    ...(context.textEmbeds ? { textEmbeds: context.textEmbeds } : {}),
    ...(context.timeIds ? { timeIds: context.timeIds } : {}),
    controlnetCond: twice(controlImage),
    conditioningScale: inputs.conditioningScale,
  });
  return guidedNoisePrediction(new Params(g, 'unet', s.dtype), u.config, {
    sample,
    timestep,
    ...context,
    ...(guidanceScale ? { guidanceScale } : {}),
    controlnet: { down: downResiduals, mid: midResidual },
  });
}

function cast(v: Value, dtype: 'float32' | 'float16'): Value {
  return v.dtype === dtype ? v : Cast(v, dtype);
}

/**
 * The whole one-step ControlNet path: `latents` [B, 4, h, w] (z · init_noise_sigma), `encoder_hidden_states`
 * (+ SDXL's `text_embeds`, `time_ids`; [2B, …] with guidance, plus `guidance_scale`), `controlnet_cond` [B, 3, H, W] in [0, 1], `conditioning_scale`
 * float32 [] (`controlnet_conditioning_scale`), `noise` when the step is stochastic → `image` [B, H, W, 3] in
 * [0, 1] and `rgba` [B, H, W, 4] uint8.
 *
 * @example
 * const g = controlNetOneStepGraph({ config, contextDim: 768, contextLength: 77, controlnet }, vae, step, { batch: 1, latentHeight: 64, latentWidth: 64, guidance: false }, settings);
 */
export function controlNetOneStepGraph(u: ControlledUNetSide, vae: PipelineVae, step: OneStep, shape: ImageGraphShape, s: BuildSettings): Graph {
  const g = newGraph('controlnet_one_step', s);
  const inputs = controlledInputs(g, u, shape, 'latents');
  const latents = inputs.sample;
  const noise = step.prevCoef.noise !== 0 ? g.input('noise', 'float32', [...latents.shape]) : undefined;
  // scale_model_input, in float32 (Euler: / sqrt(σ² + 1)); ControlNet and U-Net both see the scaled latents.
  const modelInput = step.inputDivisor === 1 ? latents : Div(latents, step.inputDivisor);
  const timestep = g.constant(new Tensor('float32', [], Float32Array.of(step.timestep)), 'timestep');
  const eps = controlledNoisePrediction(g, u, s, { ...inputs, sample: modelInput }, timestep);
  g.output(finiteCheck(eps), 'unet_check');
  decodeAndPostprocess(g, vae, foldedStep(step, latents, eps, noise), s);
  return g;
}

/**
 * One guided ControlNet + U-Net evaluation: `sample` (the scaled model input), `timestep` float32 [],
 * `encoder_hidden_states` (+ `guidance_scale`), `controlnet_cond`, `conditioning_scale` → `noise_pred` [B, C, h, w].
 */
export function controlNetUNetStepGraph(u: ControlledUNetSide, shape: ImageGraphShape, s: BuildSettings): Graph {
  const g = newGraph('controlnet_unet_step', s);
  const inputs = controlledInputs(g, u, shape, 'sample');
  const timestep = g.input('timestep', 'float32', []);
  g.output(controlledNoisePrediction(g, u, s, inputs, timestep), 'noise_pred');
  return g;
}
