// `output: 'latents'`: the sampling loop's noise and final latents, no decode — the teacher ODE pairs of the SDXS
// recipe come from here, so they must be exactly what the image path decodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGraph, StableDiffusionPipeline, VAE_COMPONENTS, type GenerateRequest } from '@sdxs/pipeline';
import { Generator, Tensor, type Runtime } from '@sdxs/tensor';
import { createNodeRuntime } from '@sdxs/runtime-node';
import type { MaterializedFolder } from '../../../tools/golden/materialize.js';
import { goldenModel, goldenSource, maxAbsDiff } from './_helpers.js';

const runtime: Runtime = createNodeRuntime({ intraOpThreads: 2 });

/** The pipeline's own decode graph (same key, so the same session) run on `latents`: the float image. */
async function decode(pipe: StableDiffusionPipeline, latents: Tensor<'float32'>): Promise<Tensor<'float32'>> {
  const [batch, , latentHeight, latentWidth] = latents.shape;
  const shape = { batch: batch!, latentHeight: latentHeight!, latentWidth: latentWidth! };
  const out = await pipe.runGraph('decode', shape, () => decodeGraph(pipe.components.vae, shape, pipe.settings), VAE_COMPONENTS, (s) => s.run({ latents }, ['image']));
  const image = out.image;
  if (!image || !(image.data instanceof Float32Array)) throw new Error('the decode graph returned no float32 image');
  return new Tensor('float32', image.shape, image.data);
}

describe("generate({ output: 'latents' }) on the golden components (Euler, init_noise_sigma ≠ 1)", () => {
  let model: MaterializedFolder;
  let pipe: StableDiffusionPipeline;
  // Two prompts with guidance: the uncond/cond batch doubling must not leak into the latents' batch.
  const request: GenerateRequest = { prompt: ['a photo of a cat', 'a red car'], steps: 2, guidanceScale: 3, seed: 7, width: 64, height: 64 };
  beforeAll(async () => {
    model = goldenModel();
    pipe = await StableDiffusionPipeline.load(goldenSource(model), runtime);
  });
  afterAll(async () => {
    await pipe?.dispose();
    model?.cleanup();
  });

  it('returns the seed\'s randn draw and the latents the image path decodes, bit for bit', async () => {
    const l = await pipe.generate({ ...request, output: 'latents' });
    expect([l.images.length, l.fused, l.seed, l.timings.decodeMs]).toEqual([0, false, 7n, 0]);
    expect(l.latents.noise.shape).toEqual([2, 4, 8, 8]);
    expect(l.latents.denoised.shape).toEqual([2, 4, 8, 8]);
    // The noise is prepare_latents' draw before × init_noise_sigma (14.6 for this Euler schedule), not after.
    expect(Array.from(l.latents.noise.data)).toEqual(Array.from(new Generator(7).randn([2, 4, 8, 8]).data));
    expect(maxAbsDiff(l.latents.denoised, l.latents.noise)).toBeGreaterThan(0.1);

    const image = await pipe.generate({ ...request, float: true });
    const decoded = await decode(pipe, l.latents.denoised);
    expect(Array.from(decoded.data)).toEqual(Array.from(image.float!.data));
  });

  it('one step: the unfused path runs (the fused graph ends in pixels) and decodes to the fused image', async () => {
    const one: GenerateRequest = { ...request, steps: 1 };
    const l = await pipe.generate({ ...one, output: 'latents' });
    expect(l.fused).toBe(false);
    const fused = await pipe.generate({ ...one, float: true });
    expect(fused.fused).toBe(true);
    expect(maxAbsDiff(await decode(pipe, l.latents.denoised), fused.float!)).toBeLessThan(1e-4);
  });

  it('refuses an unknown output and float images without an image', async () => {
    await expect(pipe.generate({ ...request, output: 'pixels' as 'image' })).rejects.toThrow(/"output" must be 'image' or 'latents', got "pixels"/);
    await expect(pipe.generate({ ...request, output: 'latents', float: true })).rejects.toThrow(/"float" is for images/);
  });
});
