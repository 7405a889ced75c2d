/**
 * One generation path for every text-conditioned mode (text-to-image, ControlNet) and model family (SD, SDXL): the
 * text side's conditioning (text-side.ts: encoder_hidden_states, and SDXL's text_embeds and time_ids), the noise,
 * then either one fused graph (U-Net, the scheduler step folded into constants, decoder, RGBA) or N U-Net steps with
 * the scheduler in TypeScript and the decode graph; the finite checks; the images with their parameters. A mode
 * says only what differs — its two graphs and the inputs its U-Net takes beyond the shared ones (a ControlNet's
 * image and scale) — so a new mode is a Mode, not a copy of this loop. (img2img encodes an image first and runs its
 * own single graph: see img2img.ts.)
 */
import type { Graph } from '@sdxs/graph';
import type { AnyScheduler } from '@sdxs/schedulers';
import { Tensor, type Session } from '@sdxs/tensor';
import { canonicalJson } from './cache/graph-key.js';
import { runUnlessAborted, throwIfAborted } from './call.js';
import { FINITE_CHECKS, throwIfNotFinite, throwIfTensorNotFinite } from './finite.js';
import { decodeGraph, VAE_COMPONENTS, type ImageGraphShape, type OneStep } from './graphs/builders.js';
import type { ComponentPrefix } from './graphs/packed-graph.js';
import { newScheduler } from './model/components.js';
import type { GenerateResult, GenerateTimings, StableDiffusionPipeline } from './pipeline.js';
import type { ProgressCallback } from './progress.js';
import type { CheckedRequest } from './request.js';
import { scaleTensor } from './tensors.js';
import { conditioningFeeds } from './text-side.js';

/** What a mode adds to the shared path. */
export interface Mode {
  /** The fused one-step graph: U-Net (and whatever steers it), the folded step, the decoder, RGBA. */
  readonly oneStep: { readonly kind: string; readonly components: readonly ComponentPrefix[]; build(step: OneStep, shape: ImageGraphShape): Graph };
  /** The U-Net step graph (`sample`, `timestep`, … → `noise_pred`), keyed by `key(shape)` beyond its kind. */
  readonly unetStep: { readonly kind: string; readonly components: readonly ComponentPrefix[]; key(shape: ImageGraphShape): object; build(shape: ImageGraphShape): Graph };
  /** Inputs every U-Net run takes besides the latents, timestep, the conditioning (conditioningFeeds) and guidance_scale. */
  readonly feeds?: Readonly<Record<string, Tensor>>;
  /** Where to look when the U-Net's output is not finite, and when the image's is. */
  readonly dirs: { readonly unet: string; readonly vae: string };
}

/** The sampling loop's ends, for `output: 'latents'` (see GenerateLatents). */
export interface Sampled {
  readonly noise: Tensor<'float32'>;
  readonly denoised: Tensor<'float32'>;
}

/**
 * Generate `r` on `pipe` in `mode`: one fused graph for one step (when `fuse`), else N steps and the decode graph.
 * `output: 'latents'` returns the loop's ends instead of images (the fused graph ends in pixels, so it takes the
 * step path; the numbers are the same, see sampling.test.ts).
 */
export async function composeGenerate(pipe: StableDiffusionPipeline, r: CheckedRequest, mode: Mode, fuse: boolean): Promise<GenerateResult> {
  const t0 = performance.now();
  const c = pipe.components;
  const progress = pipe.progressOf(r);
  const float16 = pipe.settings.dtype === 'float16';
  const scheduler = newScheduler(c);
  scheduler.setTimesteps(r.steps);

  const tEncode = performance.now();
  const conditioning = await pipe.conditioning(r, 'text-to-image');
  const encodeMs = performance.now() - tEncode;
  throwIfAborted(r.signal);

  const f = c.vae.spatialFactor;
  const shape: ImageGraphShape = { batch: r.batch, latentHeight: r.height / f, latentWidth: r.width / f, guidance: r.guidance };
  // prepare_latents: randn(generator) of [B, C, H/8, W/8], then × init_noise_sigma (a float32 multiply).
  const noise = r.generator.randn([r.batch, c.unetConfig.in_channels, shape.latentHeight, shape.latentWidth]);
  const latents = scaleTensor(noise, scheduler.initNoiseSigma);
  const feeds: Record<string, Tensor> = {
    ...mode.feeds,
    ...conditioningFeeds(conditioning),
    ...(r.guidance ? { guidance_scale: new Tensor('float32', [], Float32Array.of(r.guidanceScale)) } : {}),
  };
  const outputs = [...(r.float ? ['rgba', 'image'] : ['rgba']), FINITE_CHECKS.vae];
  const fused = r.steps === 1 && fuse && r.output === 'image';
  const steps = () =>
    pipe.runGraph(mode.unetStep.kind, mode.unetStep.key(shape), () => mode.unetStep.build(shape), mode.unetStep.components, (s) => denoise(s, scheduler, r, latents, feeds, progress), progress);

  if (r.output === 'latents') {
    const denoised = await steps();
    throwIfTensorNotFinite(denoised, 'unet', mode.dirs.unet, float16);
    const denoiseMs = performance.now() - tEncode - encodeMs;
    return { images: [], latents: { noise, denoised }, ...(r.seed !== undefined ? { seed: r.seed } : {}), fused, timings: { encodeMs, denoiseMs, decodeMs: 0, totalMs: performance.now() - t0 } };
  }

  let result: Record<string, Tensor>;
  let decodeMs = 0;
  const tRun = performance.now();
  if (fused) {
    const t = scheduler.timesteps[0]!;
    const step = foldedStepAt(scheduler, t);
    // A stochastic step draws its noise after the latents, from the same generator, as diffusers' step() does.
    const all = { ...feeds, latents, ...(step.prevCoef.noise !== 0 ? { noise: r.generator.randn([...latents.shape]) } : {}) };
    // Identical coefficients give identical graphs whatever scheduler produced them: key on the numbers.
    const key = { ...shape, step: JSON.parse(canonicalJson(step)) as unknown };
    result = await pipe.runGraph(mode.oneStep.kind, key, () => mode.oneStep.build(step, shape), mode.oneStep.components, (s) => runUnlessAborted(s, all, [...outputs, FINITE_CHECKS.unet], r.signal), progress);
    progress?.({ stage: 'step', step: 1, steps: 1, timestep: t, ms: performance.now() - tRun, fused: true });
  } else {
    const final = await steps();
    throwIfTensorNotFinite(final, 'unet', mode.dirs.unet, float16);
    const tDecode = performance.now();
    const decodeShape = { batch: shape.batch, latentHeight: shape.latentHeight, latentWidth: shape.latentWidth };
    result = await pipe.runGraph('decode', decodeShape, () => decodeGraph(c.vae, decodeShape, pipe.settings), VAE_COMPONENTS, (s) => runUnlessAborted(s, { latents: final }, outputs, r.signal), progress);
    decodeMs = performance.now() - tDecode;
    progress?.({ stage: 'decode', ms: decodeMs });
  }
  const denoiseMs = performance.now() - tRun - decodeMs;
  return imageResult(pipe, r, result, mode.dirs, fused, { encodeMs, denoiseMs, decodeMs, totalMs: performance.now() - t0 });
}

/**
 * A result from an image graph's outputs (`rgba`, `image` when asked for, the finite checks): checked, the images
 * with their parameters. Every mode ends here, img2img too.
 */
export function imageResult(pipe: StableDiffusionPipeline, r: CheckedRequest, result: Readonly<Record<string, Tensor>>, dirs: Mode['dirs'], fused: boolean, timings: GenerateTimings): GenerateResult {
  throwIfNotFinite(result, dirs, pipe.settings.dtype === 'float16');
  const rgba = result.rgba;
  if (!rgba || rgba.dtype !== 'uint8') throw new Error(`the image graph returned ${rgba ? rgba.dtype : 'no'} rgba output`);
  const image = result.image;
  return {
    images: pipe.images(rgba, r),
    ...(r.float && image && image.data instanceof Float32Array ? { float: new Tensor('float32', image.shape, image.data) } : {}),
    ...(r.seed !== undefined ? { seed: r.seed } : {}),
    fused,
    timings,
  };
}

/** The scheduler's step at `t` as the numbers the fused graph folds in. */
export function foldedStepAt(scheduler: AnyScheduler, t: number): OneStep {
  const k = scheduler.stepCoefficients(t);
  return { timestep: k.timestep, inputDivisor: k.inputDivisor, x0Coef: k.x0Coef, prevCoef: k.prevCoef };
}

/** The denoising loop on the U-Net step graph: scale the input, predict the noise, step — once per timestep. */
async function denoise(session: Session, scheduler: AnyScheduler, r: CheckedRequest, latents: Tensor<'float32'>, feeds: Readonly<Record<string, Tensor>>, progress: ProgressCallback | undefined): Promise<Tensor<'float32'>> {
  const timesteps = scheduler.timesteps;
  let x = latents;
  for (let i = 0; i < timesteps.length; i++) {
    const t = timesteps[i]!;
    const t0 = performance.now();
    const sample = scheduler.scaleModelInput(x, t);
    const out = await runUnlessAborted(session, { ...feeds, sample, timestep: new Tensor('float32', [], Float32Array.of(t)) }, ['noise_pred'], r.signal);
    const eps = out.noise_pred;
    if (!eps || !(eps.data instanceof Float32Array)) throw new Error(`the U-Net step graph returned no float32 noise_pred`);
    x = scheduler.step(new Tensor('float32', eps.shape, eps.data), t, x, { generator: r.generator }).prevSample;
    progress?.({ stage: 'step', step: i + 1, steps: timesteps.length, timestep: t, ms: performance.now() - t0 });
  }
  return x;
}
