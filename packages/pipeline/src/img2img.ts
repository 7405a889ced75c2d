/**
 * diffusers' `StableDiffusionImg2ImgPipeline` (pipelines/stable_diffusion/pipeline_stable_diffusion_img2img.py)
 * for one-step models: the image is encoded, noised to the strength's timestep and denoised by one step, all in
 * one graph (graphs/img2img-step.ts). Strength follows diffusers' `get_timesteps` exactly: with
 * `num_inference_steps` N, int(N · strength) steps run, starting at `timesteps[N − int(N · strength)]`. A
 * one-step model runs one of them, so by default N is the smallest giving one step (⌈1 / strength⌉):
 * strength 1 starts from t = 999 (Euler trailing), [0.5, 1) from 499, [1/3, 0.5) from 332, [0.25, 1/3) from 249…
 * Strength 0 runs no step: the image only goes through the VAE.
 */
import type { AnyScheduler } from '@sdxs/schedulers';
import { imagesToTensor, Tensor, type ImageInput } from '@sdxs/tensor';
import { canonicalJson } from './cache/graph-key.js';
import { FINITE_CHECKS } from './finite.js';
import { IMAGE_COMPONENTS, VAE_COMPONENTS, type ImageGraphShape } from './graphs/builders.js';
import { img2imgGraph, type Img2ImgStep } from './graphs/img2img-step.js';
import { newScheduler } from './model/components.js';
import type { GenerateResult, StableDiffusionPipeline } from './pipeline.js';
import { MAX_STEPS, type GenerateRequest } from './request.js';
import { runUnlessAborted, throwIfAborted } from './call.js';
import { foldedStepAt, imageResult } from './compose.js';
import { conditioningFeeds } from './text-side.js';

/** A text-to-image request's fields (latents output aside: img2img always decodes) plus the initial image. */
export interface Img2ImgRequest extends Omit<GenerateRequest, 'output'> {
  /** The initial image: 8-bit RGB or RGBA (ImageData fits), a multiple of the VAE's factor; the output keeps its size. */
  readonly image: ImageInput;
  /** How much of the image to repaint, in [0, 1] (default as diffusers: 0.8, SDXL 0.3): 0 keeps it, 1 starts from t = 999. */
  readonly strength?: number;
}

/** The part of the schedule an img2img run uses. */
export interface Img2ImgTimesteps {
  /** `scheduler.timesteps[t_start · order:]`. */
  readonly timesteps: readonly number[];
  /** `t_start · order`: what diffusers passes to `set_begin_index`. */
  readonly beginIndex: number;
  /** Denoising steps run: `num_inference_steps − t_start`. */
  readonly steps: number;
}

/**
 * diffusers' `get_timesteps(num_inference_steps, strength)`: init_timestep = min(int(N · strength), N),
 * t_start = max(N − init_timestep, 0).
 *
 * @example
 * img2imgTimesteps([999, 499], 2, 0.5); // { timesteps: [499], beginIndex: 1, steps: 1 }
 */
export function img2imgTimesteps(schedule: readonly number[], numInferenceSteps: number, strength: number, order = 1): Img2ImgTimesteps {
  const init = Math.min(Math.trunc(numInferenceSteps * strength), numInferenceSteps);
  const tStart = Math.max(numInferenceSteps - init, 0);
  return { timesteps: schedule.slice(tStart * order), beginIndex: tStart * order, steps: numInferenceSteps - tStart };
}

/**
 * The fewest `num_inference_steps` for which an img2img run at `strength` (> 0) denoises once: ⌈1 / strength⌉.
 *
 * @example
 * oneStepImg2ImgSteps(0.6); // 2 — diffusers' pipe(image=…, strength=0.6, num_inference_steps=2) runs one step
 */
export function oneStepImg2ImgSteps(strength: number): number {
  if (!(strength > 0 && strength <= 1)) throw new RangeError(`oneStepImg2ImgSteps: strength must be in (0, 1], got ${strength}`);
  let n = Math.max(1, Math.ceil(1 / strength));
  // Guard against 1/strength rounding: int(n · strength) must reach 1, as Python computes it.
  while (Math.trunc(n * strength) < 1) n++;
  return n;
}

function bad(field: string, message: string): never {
  throw new RangeError(`img2img: "${field}" ${message}`);
}

/** `num_inference_steps` and the checked strength of a request. */
function resolveSteps(request: Img2ImgRequest, sdxl: boolean): { strength: number; steps: number } {
  // StableDiffusionImg2ImgPipeline's default strength is 0.8, StableDiffusionXLImg2ImgPipeline's 0.3.
  const strength = request.strength ?? (sdxl ? 0.3 : 0.8);
  if (typeof strength !== 'number' || !(strength >= 0 && strength <= 1)) bad('strength', `must be in [0.0, 1.0], got ${JSON.stringify(strength)}`);
  if (request.steps !== undefined) return { strength, steps: request.steps };
  if (strength === 0) return { strength, steps: 1 };
  const steps = oneStepImg2ImgSteps(strength);
  if (steps > MAX_STEPS) bad('strength', `${strength} is below 1/${MAX_STEPS}: no timestep of the schedule is that close to the image`);
  return { strength, steps };
}

/**
 * Run img2img on `pipe` (what `StableDiffusionPipeline.img2img` does).
 *
 * @example
 * const { images } = await img2img(pipe, { prompt: 'a watercolor', image: photo, strength: 0.6, seed: 0 });
 */
export async function img2img(pipe: StableDiffusionPipeline, request: Img2ImgRequest): Promise<GenerateResult> {
  const t0 = performance.now();
  if (typeof request !== 'object' || request === null) throw new TypeError('img2img: expected a request object');
  const { image } = request;
  if (typeof image !== 'object' || image === null || typeof image.width !== 'number' || typeof image.height !== 'number') bad('image', 'is required: the initial image');
  for (const side of ['width', 'height'] as const) {
    const want = request[side];
    if (want !== undefined && want !== image[side]) bad(side, `is ${want} but the image's ${side} is ${image[side]}; img2img keeps the image's size (resize it first)`);
  }
  const c = pipe.components;
  const f = c.vae.spatialFactor;
  const { strength, steps } = resolveSteps(request, c.index.family === 'sdxl');
  const r = pipe.checkRequest({ ...request, steps, width: image.width, height: image.height });
  const progress = pipe.progressOf(r);
  if (r.output !== 'image') bad('output', "'latents' is for text-to-image (StableDiffusionPipeline.generate)");
  const pixels = imagesToTensor([image], { range: '-1,1' }); // VaeImageProcessor.preprocess: v / 255, then 2x − 1
  if (!c.weights.vae.files.some((file) => [...file.entries.keys()].some((k) => k.startsWith('encoder.')))) {
    throw new Error(`${c.source.id}/${c.weights.vae.dir}: the VAE has no encoder weights; img2img needs them`);
  }

  const scheduler = newScheduler(c);
  scheduler.setTimesteps(r.steps);
  const plan = img2imgTimesteps(scheduler.timesteps, r.steps, strength, scheduler.order);
  if (plan.steps > 1) bad('steps', `× strength gives ${plan.steps} denoising steps (${r.steps} × ${strength}); img2img here runs one (one-step models): leave "steps" out`);
  if (plan.steps === 0 && strength > 0) bad('steps', `× strength is below 1 (${r.steps} × ${strength}): no denoising step would run; raise either, or use strength 0 to only encode and decode`);
  // Schedulers that track a step index start there (diffusers calls set_begin_index when it exists).
  if ('setBeginIndex' in scheduler) scheduler.setBeginIndex(plan.beginIndex);

  const shape: ImageGraphShape = { batch: r.batch, latentHeight: r.height / f, latentWidth: r.width / f, guidance: r.guidance };
  const latentShape = [r.batch, c.vae.latentChannels, shape.latentHeight, shape.latentWidth];
  const tEncode = performance.now();
  const feeds: Record<string, Tensor> = { init_image: pixels };
  if (plan.steps === 1) Object.assign(feeds, conditioningFeeds(await pipe.conditioning(r, 'img2img')));
  const encodeMs = plan.steps === 1 ? performance.now() - tEncode : 0;
  throwIfAborted(r.signal);
  // prepare_latents' draws, in diffusers' order: the posterior sample (AutoencoderKL), then add_noise's noise.
  if (c.vae.encodeSamples) feeds.posterior_noise = r.generator.randn([1, ...latentShape.slice(1)]);
  const denoise = plan.steps === 1 ? stepAt(scheduler, plan.timesteps[0]!) : undefined;
  if (denoise) {
    feeds.noise = r.generator.randn(latentShape);
    if (denoise.step.prevCoef.noise !== 0) feeds.step_noise = r.generator.randn(latentShape);
    if (r.guidance) feeds.guidance_scale = new Tensor('float32', [], Float32Array.of(r.guidanceScale));
  }

  const outputs = [...(r.float ? ['rgba', 'image'] : ['rgba']), FINITE_CHECKS.vae, ...(denoise ? [FINITE_CHECKS.unet] : [])];
  const side = pipe.unetSide;
  const build = () => img2imgGraph(side, c.vae, denoise, shape, pipe.settings);
  const kind = denoise ? 'img2img' : 'img2img-vae';
  const key = { ...shape, ...(denoise ? JSON.parse(canonicalJson(denoise)) : {}) };
  const tRun = performance.now();
  const result = await pipe.runGraph(kind, key, build, denoise ? IMAGE_COMPONENTS : VAE_COMPONENTS, (s) => runUnlessAborted(s, feeds, outputs, r.signal), progress);
  const denoiseMs = performance.now() - tRun;
  if (denoise) progress?.({ stage: 'step', step: 1, steps: 1, timestep: plan.timesteps[0]!, ms: denoiseMs, fused: true });
  return imageResult(pipe, r, result, pipe.componentDirs, true, { encodeMs, denoiseMs, decodeMs: 0, totalMs: performance.now() - t0 });
}

/** The folded step at `t` and add_noise's two coefficients there, read off the scheduler itself. */
function stepAt(scheduler: AnyScheduler, t: number): Img2ImgStep {
  // add_noise is linear in (original, noise): probing it with unit values gives the scheduler's own float32 scalars.
  const one = (v: number) => new Tensor('float32', [1, 1, 1, 1], Float32Array.of(v));
  const original = scheduler.addNoise(one(1), one(0), t).data[0]!;
  const noise = scheduler.addNoise(one(0), one(1), t).data[0]!;
  return { step: foldedStepAt(scheduler, t), addNoise: { original, noise } };
}

