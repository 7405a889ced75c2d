/**
 * diffusers' `StableDiffusionImg2ImgPipeline` (pipelines/stable_diffusion/pipeline_stable_diffusion_img2img.py)
 * for one-step models, as one graph: `prepare_latents` (encode, × scaling_factor, repeat for the batch,
 * `scheduler.add_noise` at the start timestep), the single denoising step (U-Net, guidance, the folded scheduler
 * step) and the decoder with postprocessing. With no step (strength 0) the image only goes through the VAE.
 */
import { Cast, Expand, Mul, Params, type Graph, type Value } from '@sdxs/graph';
import type { PipelineVae } from '../model/vae.js';
import { conditioningInputs, decodeAndPostprocess, newGraph, stepAndDecode, vaeDType, type BuildSettings, type ImageGraphShape, type OneStep, type UNetSide } from './builders.js';
import { linearCombination } from './denoise.js';

/** `add_noise(x, n, t) = original · x + noise · n` at the start timestep (every diffusers scheduler's is linear). */
export interface NoiseMix {
  readonly original: number;
  readonly noise: number;
}

/** The denoising part of an img2img graph; absent for strength 0. */
export interface Img2ImgStep {
  readonly step: OneStep;
  readonly addNoise: NoiseMix;
}

export type Img2ImgUNetSide = UNetSide;

/**
 * `init_image` [1, 3, H, W] in [-1, 1] (+ `posterior_noise` [1, C, h, w] for an AutoencoderKL, which samples its
 * posterior) → with a step: + `encoder_hidden_states` (+ SDXL's `text_embeds`, `time_ids`; + `guidance_scale`), `noise` [B, C, h, w] for add_noise
 * (+ `step_noise` when the step is stochastic) → `image` [B, H, W, 3] in [0, 1] and `rgba` [B, H, W, 4] uint8.
 *
 * @example
 * const g = img2imgGraph(unetSide, vae, { step, addNoise: { original: 1, noise: 3.36 } }, { batch: 1, latentHeight: 64, latentWidth: 64, guidance: false }, settings);
 */
export function img2imgGraph(u: Img2ImgUNetSide, vae: PipelineVae, denoise: Img2ImgStep | undefined, shape: ImageGraphShape, s: BuildSettings): Graph {
  const g = newGraph(denoise ? 'img2img' : 'img2img_vae', s);
  const { batch, latentHeight: h, latentWidth: w } = shape;
  const f = vae.spatialFactor;
  const c = vae.latentChannels;
  const image = g.input('init_image', 'float32', [1, 3, h * f, w * f]);
  const dtype = vaeDType(vae, s);
  const to = (v: Value, d: 'float32' | 'float16'): Value => (v.dtype === d ? v : Cast(v, d));
  const posterior = vae.encodeSamples ? to(g.input('posterior_noise', 'float32', [1, c, h, w]), dtype) : undefined;
  // retrieve_latents(vae.encode(image)), then `scaling_factor * init_latents` (a float32 multiply, as in torch).
  const encoded = to(vae.encode(new Params(g, 'vae', dtype), to(image, dtype), posterior), 'float32');
  const scaled = vae.scalingFactor === 1 ? encoded : Mul(encoded, vae.scalingFactor);
  // One image for the whole batch: torch.cat([init_latents] * batch).
  const init = batch === 1 ? scaled : Expand(scaled, [batch, c, h, w]);
  if (!denoise) {
    decodeAndPostprocess(g, vae, init, s);
    return g;
  }
  const { step, addNoise } = denoise;
  const context = conditioningInputs(g, u, shape);
  const guidanceScale = shape.guidance ? g.input('guidance_scale', 'float32', []) : undefined;
  const noise = g.input('noise', 'float32', [batch, c, h, w]);
  const latents = linearCombination([
    [addNoise.original, init],
    [addNoise.noise, noise],
  ]);
  const stepNoise = step.prevCoef.noise !== 0 ? g.input('step_noise', 'float32', [batch, c, h, w]) : undefined;
  stepAndDecode(g, u.config, vae, step, { latents, context, ...(guidanceScale ? { guidanceScale } : {}), ...(stepNoise ? { noise: stepNoise } : {}) }, s);
  return g;
}
