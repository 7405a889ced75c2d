import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { img2imgTimesteps, oneStepImg2ImgSteps, StableDiffusionPipeline, type Img2ImgRequest } from '@sdxs/pipeline';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { EulerDiscreteScheduler, schedulerFromConfig } from '@sdxs/schedulers';
import { Generator, Tensor, type ModelSource } from '@sdxs/tensor';
import { loadUNet, UNET_OUTPUT } from '@sdxs/unet';
import { resolveGoldenPath } from '../../../tools/golden/links.js';
import type { MaterializedFolder } from '../../../tools/golden/materialize.js';
import { decodeToImage, float32, promptEmbeds, runOnce, scaled, vaeEncode } from '../../../tools/golden/unfused.js';
import { countingRuntime, GOLDEN, goldenModel, goldenSource, maxAbsDiff } from './_helpers.js';

const runtime = createNodeRuntime({ intraOpThreads: 2 });
const prompt = 'a photo of a cat';

/** A smooth RGBA test picture with some structure. */
function picture(width: number, height: number): { width: number; height: number; data: Uint8ClampedArray } {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data.set([(x * 255) / width, (y * 255) / height, Math.hypot(x - width / 2, y - height / 2) < width / 4 ? 230 : 40, 255], i);
    }
  }
  return { width, height, data };
}

/** VaeImageProcessor.preprocess: v / 255 in float32, then 2x − 1; NCHW, alpha dropped. */
function preprocess(img: { width: number; height: number; data: Uint8ClampedArray }): Tensor<'float32'> {
  const plane = img.width * img.height;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = Math.fround(2 * Math.fround(img.data[p * 4 + c]! / 255) - 1);
  return new Tensor('float32', [1, 3, img.height, img.width], out);
}

/**
 * StableDiffusionImg2ImgPipeline's computation unfused: encode (+ posterior sample for a KL VAE), × scaling_factor,
 * get_timesteps, set_begin_index, add_noise, one U-Net call, the Euler step, decode, postprocess.
 */
async function reference(source: ModelSource, vaeDir: string, image: Tensor<'float32'>, strength: number, steps: number, seed: number, noiseFirst = false): Promise<Tensor<'float32'>> {
  const generator = new Generator(seed);
  const encoded = await vaeEncode(runtime, source, vaeDir, image);
  const vaeConfig = JSON.parse(await source.readText(`${vaeDir}/config.json`)) as { scaling_factor: number };
  const latentShape = [...(encoded.latents ?? encoded.mean)!.shape];
  // diffusers draws the posterior sample (retrieve_latents) before add_noise's noise; `noiseFirst` swaps them.
  const early = noiseFirst ? generator.randn(latentShape) : undefined;
  let latents0: Tensor<'float32'>;
  if (encoded.latents) latents0 = encoded.latents;
  else {
    const { mean, logvar } = encoded as { mean: Tensor<'float32'>; logvar: Tensor<'float32'> };
    const eps = generator.randn([...mean.shape]);
    // DiagonalGaussianDistribution.sample: mean + exp(0.5 · logvar) · eps.
    latents0 = new Tensor('float32', mean.shape, mean.data.map((m, i) => Math.fround(m + Math.fround(Math.fround(Math.exp(Math.fround(0.5 * logvar.data[i]!))) * eps.data[i]!))));
  }
  const init = scaled(latents0, vaeConfig.scaling_factor);
  const scheduler = schedulerFromConfig(await source.readText('scheduler/scheduler_config.json'), 'scheduler_config.json');
  scheduler.setTimesteps(steps);
  const initTimestep = Math.min(Math.trunc(steps * strength), steps);
  const tStart = Math.max(steps - initTimestep, 0);
  if ('setBeginIndex' in scheduler) scheduler.setBeginIndex(tStart);
  const t = scheduler.timesteps[tStart]!;
  const latents = scheduler.addNoise(init, early ?? generator.randn(latentShape), t);
  const [, , h, w] = latents.shape as [number, number, number, number];
  const sample = scheduler.scaleModelInput(latents, t);
  const unet = await loadUNet(source, 'unet', { batch: 1, height: h, width: w, timestep: 'scalar' });
  const embeds = await promptEmbeds(runtime, source, [prompt]);
  const eps = float32((await runOnce(runtime, unet.graph, { sample, timestep: new Tensor('float32', [], Float32Array.of(t)), encoder_hidden_states: embeds }))[UNET_OUTPUT], 'U-Net');
  return decodeToImage(runtime, source, vaeDir, scheduler.step(eps, t, latents).prevSample);
}

describe("img2img strength → timesteps (diffusers' get_timesteps)", () => {
  const euler = () => {
    const s = EulerDiscreteScheduler.fromConfig({ timestep_spacing: 'trailing', beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012, steps_offset: 1 }, 'sdxs');
    return s;
  };

  it('matches init_timestep = min(int(N·s), N), t_start = max(N − init_timestep, 0) for every N and s', () => {
    for (const n of [1, 2, 3, 4, 7, 10, 50]) {
      const s = euler();
      s.setTimesteps(n);
      for (const strength of [0, 0.1, 0.2, 0.25, 0.3, 1 / 3, 0.5, 0.6, 0.75, 0.8, 0.99, 1]) {
        const init = Math.min(Math.floor(n * strength), n);
        const tStart = Math.max(n - init, 0);
        expect(img2imgTimesteps(s.timesteps, n, strength)).toEqual({ timesteps: s.timesteps.slice(tStart), beginIndex: tStart, steps: n - tStart });
      }
    }
  });

  it('runs exactly one step by default, at the trailing schedule timestep diffusers would start from', () => {
    // Euler trailing: round(arange(1000, 0, −1000/N)) − 1 → N = 1: [999]; 2: [999, 499]; 3: [999, 666, 332]; 4: […, 249].
    const expected: [number, number, number][] = [
      [1, 1, 999],
      [0.99, 2, 499],
      [0.6, 2, 499],
      [0.5, 2, 499],
      [0.4, 3, 332],
      [0.3, 4, 249],
      [0.25, 4, 249],
      [0.1, 10, 99],
    ];
    for (const [strength, n, t] of expected) {
      expect(oneStepImg2ImgSteps(strength)).toBe(n);
      const s = euler();
      s.setTimesteps(n);
      expect(img2imgTimesteps(s.timesteps, n, strength)).toMatchObject({ timesteps: [t], steps: 1 });
    }
    expect(() => oneStepImg2ImgSteps(0)).toThrow(/strength must be in \(0, 1\]/);
  });
});

describe('StableDiffusionPipeline.img2img (one step, tiny VAE)', () => {
  let model: MaterializedFolder;
  let source: ModelSource;
  let pipe: StableDiffusionPipeline;
  const image = picture(128, 128);
  beforeAll(async () => {
    model = goldenModel();
    source = goldenSource(model);
    pipe = await StableDiffusionPipeline.load(source, countingRuntime());
  });
  afterAll(async () => {
    await pipe?.dispose();
    model?.cleanup();
  });

  for (const [strength, steps] of [
    [0.5, undefined],
    [1, undefined],
    [0.15, 7],
  ] as const) {
    it(`strength ${strength}${steps ? `, ${steps} steps` : ''}: the fused graph equals encode → add_noise → U-Net → Euler step → decode run apart`, async () => {
      const n = steps ?? oneStepImg2ImgSteps(strength);
      const expected = await reference(source, 'vae', preprocess(image), strength, n, 42);
      const got = await pipe.img2img({ prompt, image, strength, ...(steps ? { steps } : {}), seed: 42, float: true });
      const err = maxAbsDiff(got.float!, expected);
      console.log(`img2img strength ${strength} (${n} steps): max |image - unfused| = ${err.toExponential(2)} (${(err * 255).toFixed(4)}/255)`);
      expect(err).toBeLessThanOrEqual(1e-4);
      expect(got.images[0]).toMatchObject({ width: 128, height: 128 });
    });
  }

  it('strength 0 runs no U-Net: the image through encode and decode only', async () => {
    const before = pipe.graphStats.built;
    const got = await pipe.img2img({ prompt, image, strength: 0, float: true });
    expect(pipe.graphStats.built).toBe(before + 1); // the VAE-only graph
    const encoded = (await vaeEncode(runtime, source, 'vae', preprocess(image))).latents!;
    const roundTrip = await decodeToImage(runtime, source, 'vae', encoded);
    // With the real TAESD weights this is close to the picture; the golden VAE's random weights only pin the path.
    expect(maxAbsDiff(got.float!, roundTrip)).toBeLessThanOrEqual(1e-4);
  });

  it('is deterministic per seed; the images of a batch share the encoded image, not the noise', async () => {
    const a = await pipe.img2img({ prompt, image, strength: 0.6, seed: 1, float: true });
    const b = await pipe.img2img({ prompt, image, strength: 0.6, seed: 1, float: true });
    const c = await pipe.img2img({ prompt, image, strength: 0.6, seed: 2, float: true });
    expect(Buffer.from(a.images[0]!.data).equals(Buffer.from(b.images[0]!.data))).toBe(true);
    expect(maxAbsDiff(a.float!, c.float!)).toBeGreaterThan(1e-3);
    // Several images per prompt share the encoded image but each gets its own noise.
    const two = await pipe.img2img({ prompt, image, strength: 0.6, seed: 1, numImagesPerPrompt: 2 });
    expect(Buffer.from(two.images[0]!.data).equals(Buffer.from(a.images[0]!.data))).toBe(true);
    expect(Buffer.from(two.images[1]!.data).equals(Buffer.from(two.images[0]!.data))).toBe(false);
  });

  it.each([
    ['strength < 0', { strength: -0.1 }, /img2img: "strength" must be in \[0\.0, 1\.0\], got -0\.1/],
    ['strength > 1', { strength: 1.5 }, /"strength" must be in \[0\.0, 1\.0\]/],
    ['strength NaN', { strength: Number.NaN }, /"strength" must be in/],
    ['another width', { width: 64 }, /"width" is 64 but the image's width is 128; img2img keeps the image's size/],
    ['two steps', { strength: 0.5, steps: 4 }, /"steps" × strength gives 2 denoising steps \(4 × 0\.5\)/],
    ['no step', { strength: 0.2, steps: 2 }, /"steps" × strength is below 1 \(2 × 0\.2\): no denoising step would run/],
    ['no image', { image: undefined }, /"image" is required/],
    ['a size off the latent grid', { image: picture(100, 100) }, /"width" must be a multiple of 8/],
  ] as [string, Partial<Img2ImgRequest>, RegExp][])('refuses %s', async (_, change, message) => {
    await expect(pipe.img2img({ prompt, image, seed: 0, ...change } as Img2ImgRequest)).rejects.toThrow(message);
  });
});

describe('img2img with an AutoencoderKL (vae_large): the posterior sample comes first from the generator', () => {
  let model: MaterializedFolder;
  beforeAll(() => {
    model = goldenModel();
    // The golden vae-kl case stands in for vae_large/ (scale factor 2).
    mkdirSync(join(model.path, 'vae_large'));
    symlinkSync(resolveGoldenPath(join(GOLDEN, 'vae-kl/config.json')), join(model.path, 'vae_large/config.json'));
    symlinkSync(resolveGoldenPath(join(GOLDEN, 'vae-kl/model.safetensors')), join(model.path, 'vae_large/diffusion_pytorch_model.safetensors'));
  });
  afterAll(() => model?.cleanup());

  it('strength 0.5 equals the unfused reference', async () => {
    const source = goldenSource(model);
    const pipe = await StableDiffusionPipeline.load(source, countingRuntime(), { vae: 'vae_large' });
    try {
      const image = picture(32, 32);
      const expected = await reference(source, 'vae_large', preprocess(image), 0.5, 2, 3);
      const got = await pipe.img2img({ prompt, image, strength: 0.5, seed: 3, float: true });
      const err = maxAbsDiff(got.float!, expected);
      console.log(`img2img vae_large strength 0.5: max |image - unfused| = ${err.toExponential(2)}`);
      expect(err).toBeLessThanOrEqual(1e-4);
      // The order matters: the other order gives another image.
      const swapped = await reference(source, 'vae_large', preprocess(image), 0.5, 2, 3, true);
      expect(maxAbsDiff(got.float!, swapped)).toBeGreaterThan(1e-3);
    } finally {
      await pipe.dispose();
    }
  });
});
