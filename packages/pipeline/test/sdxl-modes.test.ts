/**
 * img2img and ControlNet on a tiny SDXL folder (StableDiffusionXLImg2ImgPipeline, StableDiffusionXLControlNetPipeline
 * computations) against compositions of the separately tested components, and the folder checks' messages.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControlNet, prepareControlImage, toUNetResidualFeeds } from '@sdxs/control';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { schedulerFromConfig } from '@sdxs/schedulers';
import { Generator, Tensor, type ModelSource } from '@sdxs/tensor';
import { ControlNetPipeline, StableDiffusionPipeline } from '../src/index.js';
import { resolveGoldenPath } from '../../../tools/golden/links.js';
import { decodeToImage, scaled, vaeEncode } from '../../../tools/golden/unfused.js';
import { GOLDEN, maxAbsDiff } from './_helpers.js';
import { guidedEps, referenceConditioning, reusable, SDXL_SCHEDULER, sdxlFolder, type SdxlFolder } from './_sdxl.js';

const runtime = createNodeRuntime({ intraOpThreads: 2 });
/** SDXS-1024 / SDXL-Turbo schedule their one step at t = 999 ("trailing"). */
const TRAILING = { 'scheduler/scheduler_config.json': { ...SDXL_SCHEDULER, timestep_spacing: 'trailing' } };
const size = { width: 32, height: 32 };

function picture(): { width: number; height: number; data: Uint8ClampedArray } {
  const data = new Uint8ClampedArray(32 * 32 * 4);
  for (let p = 0; p < 32 * 32; p++) data.set([(p % 32) * 8, Math.floor(p / 32) * 8, Math.hypot((p % 32) - 16, Math.floor(p / 32) - 16) < 8 ? 230 : 40, 255], p * 4);
  return { ...size, data };
}

/** VaeImageProcessor.preprocess: 2 · v / 255 − 1, NCHW. */
function preprocess(data: Uint8ClampedArray): Tensor<'float32'> {
  const out = new Float32Array(3 * 1024);
  for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) out[c * 1024 + p] = Math.fround(2 * Math.fround(data[p * 4 + c]! / 255) - 1);
  return new Tensor('float32', [1, 3, 32, 32], out);
}

const schedulerOf = async (source: ModelSource) => schedulerFromConfig(await source.readText('scheduler/scheduler_config.json'), 'scheduler_config.json');

describe('SDXL img2img and ControlNet', () => {
  let folder: SdxlFolder;
  let pipe: ControlNetPipeline;
  beforeAll(async () => {
    folder = await sdxlFolder({ controlnet: true, configs: TRAILING });
    pipe = await ControlNetPipeline.load(folder.source, undefined, runtime);
  });
  afterAll(async () => {
    await pipe?.dispose();
    folder?.cleanup();
  });

  it('img2img equals encode → add_noise → one guided step → decode, with img2img’s negative time ids', async () => {
    const image = picture();
    // strength 0.5: N = 2, trailing [999, 499], t_start 1 → t = 499. The crop is given for the positive rows only.
    const call = { prompt: 'a watercolor', negativePrompt: 'blurry', guidanceScale: 3, strength: 0.5, seed: 5, cropsCoordsTopLeft: { top: 2, left: 4 } };
    const { float } = await pipe.base.img2img({ ...call, image, float: true });

    const gen = new Generator(5);
    const { mean, logvar } = await vaeEncode(runtime, folder.source, 'vae', preprocess(image.data));
    const eps0 = gen.randn([...mean!.shape]);
    const sampled = new Tensor('float32', mean!.shape, mean!.data.map((m, i) => Math.fround(m + Math.fround(Math.fround(Math.exp(Math.fround(0.5 * logvar!.data[i]!))) * eps0.data[i]!))));
    const scheduler = await schedulerOf(folder.source);
    scheduler.setTimesteps(2);
    if ('setBeginIndex' in scheduler) scheduler.setBeginIndex(1);
    const t = scheduler.timesteps[1]!;
    expect(t).toBe(499);
    const latents = scheduler.addNoise(scaled(sampled, 0.18215), gen.randn([1, 4, 16, 16]), t);
    const cond = await referenceConditioning(runtime, folder.source, { prompt: call.prompt, negativePrompt: 'blurry', guidanceScale: 3, steps: 1, seed: 5, ...size });
    // StableDiffusionXLImg2ImgPipeline: negative crop (0, 0) unless given; positive (2, 4).
    cond.time_ids = new Tensor('float32', [2, 6], Float32Array.of(32, 32, 0, 0, 32, 32, 32, 32, 2, 4, 32, 32));
    const eps = await guidedEps(runtime, folder.source, cond, scheduler.scaleModelInput(latents, t), t, 3);
    const want = await decodeToImage(runtime, folder.source, 'vae', scheduler.step(eps, t, latents).prevSample);
    expect(maxAbsDiff(float!, want)).toBeLessThan(1e-4);
  });

  it('img2img defaults to diffusers’ SDXL strength 0.3', async () => {
    const image = picture();
    const a = await pipe.base.img2img({ prompt: 'a', image, seed: 1, float: true });
    const b = await pipe.base.img2img({ prompt: 'a', image, seed: 1, strength: 0.3, float: true });
    expect(maxAbsDiff(a.float!, b.float!)).toBe(0);
  });

  it('ControlNet equals ControlNet (fed text_embeds and time_ids) + U-Net with residuals, one step and two', async () => {
    const control = { ...size, data: picture().data, channels: 4 as const };
    for (const [steps, guidanceScale] of [
      [1, 0],
      [2, 4],
    ] as const) {
      const { float } = await pipe.generate({ prompt: 'a red circle', image: control, controlScale: 0.7, seed: 9, steps, guidanceScale, float: true });

      const guided = guidanceScale > 1;
      const cond = await referenceConditioning(runtime, folder.source, { prompt: 'a red circle', guidanceScale, steps, seed: 9, ...size });
      const image = prepareControlImage(control, { mode: 'raw', ...size });
      const batch = guided ? 2 : 1;
      const controlnet = reusable(runtime, `${folder.path}/controlnet:${batch}`, async () => (await loadControlNet(folder.source, 'controlnet', { batch, height: 16, width: 16, timestep: 'scalar' })).graph);
      const scheduler = await schedulerOf(folder.source);
      scheduler.setTimesteps(steps);
      const gen = new Generator(9);
      let latents = scaled(gen.randn([1, 4, 16, 16]), scheduler.initNoiseSigma);
      const twice = (x: Tensor<'float32'>) => (guided ? new Tensor('float32', [2, ...x.shape.slice(1)], Float32Array.from([...x.data, ...x.data])) : x);
      for (const t of scheduler.timesteps) {
        const sample = scheduler.scaleModelInput(latents, t);
        const timestep = new Tensor('float32', [], Float32Array.of(t));
        const residuals = await controlnet({ ...cond, sample: twice(sample), timestep, controlnet_cond: twice(image), conditioning_scale: new Tensor('float32', [], Float32Array.of(0.7)) });
        const eps = await guidedEps(runtime, folder.source, cond, sample, t, guidanceScale, toUNetResidualFeeds(residuals));
        latents = scheduler.step(eps, t, latents, { generator: gen }).prevSample;
      }
      const want = await decodeToImage(runtime, folder.source, 'vae', latents);
      expect(maxAbsDiff(float!, want)).toBeLessThan(1e-4);
    }
  });
});

describe('SDXL in float16', () => {
  it('text-to-image and ControlNet graphs build and run in float16 (the force_upcast VAE in float32), close to float32', async () => {
    const folder = await sdxlFolder({ controlnet: true, configs: TRAILING });
    const f32 = await ControlNetPipeline.load(folder.source, undefined, runtime);
    const f16 = await ControlNetPipeline.load(folder.source, undefined, runtime, { dtype: 'float16' });
    try {
      const request = { prompt: 'a red circle', seed: 2, guidanceScale: 3, image: { ...size, data: picture().data, channels: 4 as const }, float: true } as const;
      for (const run of [(p: ControlNetPipeline) => p.base.generate(request), (p: ControlNetPipeline) => p.generate(request)]) {
        const err = maxAbsDiff((await run(f32)).float!, (await run(f16)).float!);
        expect(err).toBeGreaterThan(0);
        expect(err).toBeLessThan(8 / 255);
      }
    } finally {
      await f32.dispose();
      await f16.dispose();
      folder.cleanup();
    }
  });
});

describe('SDXL folder checks name both files', () => {
  const unet = JSON.parse(readFileSync(resolveGoldenPath(join(GOLDEN, 'unet-sdxl', 'config.json')), 'utf8')) as Record<string, unknown>;
  const loadWith = async (configs: Record<string, Record<string, unknown>>) => {
    const folder = await sdxlFolder({ configs });
    try {
      const pipe = await StableDiffusionPipeline.load(folder.source, runtime);
      await pipe.dispose();
    } finally {
      folder.cleanup();
    }
  };

  it('cross_attention_dim ≠ the encoders’ hidden sizes together', async () => {
    await expect(loadWith({ 'unet/config.json': { ...unet, cross_attention_dim: 40 } })).rejects.toThrow(
      /unet\/config\.json: cross_attention_dim 40 is not the text encoders' hidden sizes together, 16 \(.*text_encoder\/config\.json\) \+ 32 \(.*text_encoder_2\/config\.json\) = 48/,
    );
  });

  it('addition_time_embed_dim × 6 + projection_dim ≠ projection_class_embeddings_input_dim', async () => {
    await expect(loadWith({ 'unet/config.json': { ...unet, projection_class_embeddings_input_dim: 72 } })).rejects.toThrow(
      /unet\/config\.json: projection_class_embeddings_input_dim 72 does not match addition_time_embed_dim 8 × 6 time ids \+ the second text encoder's projection_dim 16 \(.*text_encoder_2\/config\.json\) = 64/,
    );
  });

  it('a ControlNet whose added condition differs from the U-Net’s', async () => {
    const folder = await sdxlFolder({ controlnet: true });
    try {
      const file = join(folder.path, 'controlnet', 'config.json');
      const cn = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      writeFileSync(file, JSON.stringify({ ...cn, projection_class_embeddings_input_dim: 72 }));
      await expect(ControlNetPipeline.load(folder.source, undefined, runtime)).rejects.toThrow(
        /controlnet\/config\.json: addition_time_embed_dim 8 and projection_class_embeddings_input_dim 72 do not match the U-Net's 8 and 64 \(.*unet\/config\.json\)/,
      );
      writeFileSync(file, JSON.stringify({ ...cn, addition_embed_type: null }));
      await expect(ControlNetPipeline.load(folder.source, undefined, runtime)).rejects.toThrow(/controlnet\/config\.json: addition_embed_type null does not match the U-Net's "text_time" \(.*unet\/config\.json\): an SDXL model needs an SDXL ControlNet/);
    } finally {
      folder.cleanup();
    }
  });

  it('a U-Net without text_time in an SDXL folder', async () => {
    await expect(loadWith({ 'unet/config.json': { ...unet, addition_embed_type: null, cross_attention_dim: 48 } })).rejects.toThrow(/unet\/config\.json: addition_embed_type is null, but an SDXL folder .*model_index\.json.* needs "text_time"/);
  });
});
