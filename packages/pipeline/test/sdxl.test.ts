/**
 * SDXL folders (StableDiffusionXLPipeline): the pipeline's SDXL graphs against ../shared/golden (text-open-clip-proj,
 * unet-sdxl), and the whole text-to-image path against an independent composition of the components (_sdxl.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { clipBindOptions, parseCLIPTextConfig } from '@sdxs/clip';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { Tensor } from '@sdxs/tensor';
import { openSafetensorsFile } from '@sdxs/tensor/node';
import { parseUNetConfig } from '@sdxs/unet';
import { StableDiffusionPipeline, textEncoderGraph, unetStepGraph } from '../src/index.js';
import { resolveGoldenPath } from '../../../tools/golden/links.js';
import { bindFolder, float32, runOnce } from '../../../tools/golden/unfused.js';
import { CaseSource } from '../../../tools/golden/case-source.js';
import { countingRuntime, GOLDEN, maxAbsDiff } from './_helpers.js';
import { referenceConditioning, referenceImage, SDXL_SCHEDULER, sdxlFolder, type SdxlCall, type SdxlFolder } from './_sdxl.js';
import { schedulerFromConfig } from '@sdxs/schedulers';

const runtime = createNodeRuntime({ intraOpThreads: 2 });
const settings = { target: 'cpu', dtype: 'float32' } as const;

async function readAll(caseName: string, file: string): Promise<Record<string, Tensor>> {
  const f = await openSafetensorsFile(resolveGoldenPath(join(GOLDEN, caseName, file)));
  try {
    return Object.fromEntries(await Promise.all([...f.entries.keys()].map(async (k) => [k, await f.read(k)] as const)));
  } finally {
    await f.close();
  }
}
const json = async (caseName: string) => JSON.parse(await new CaseSource(join(GOLDEN, caseName)).readText('config.json')) as unknown;
/** Largest |a − b| relative to the reference's largest magnitude. */
const relErr = (a: Tensor, b: Tensor) => maxAbsDiff(a, b) / Math.max(1e-6, ...Array.from(b.data as Float32Array, Math.abs));

describe('the pipeline’s SDXL graphs against diffusers/transformers', () => {
  it('text encoder 2: hidden_states[-2] and text_embeds (text-open-clip-proj)', async () => {
    const config = parseCLIPTextConfig(await json('text-open-clip-proj'), 'text-open-clip-proj');
    const inputs = await readAll('text-open-clip-proj', 'inputs.safetensors');
    const want = await readAll('text-open-clip-proj', 'outputs.safetensors');
    const g = textEncoderGraph(config, 77, settings, { hidden: 'penultimate', textEmbeds: true });
    const out = await runOnce(runtime, await bindFolder(g, new CaseSource(join(GOLDEN, 'text-open-clip-proj')), ''), { input_ids: inputs.input_ids! });
    // hidden_states has num_hidden_layers + 1 entries: [-2] is hidden_states.2 of 3 layers.
    expect(relErr(float32(out.prompt_embeds, 'prompt_embeds'), want['hidden_states.2']!)).toBeLessThan(1e-4);
    expect(relErr(float32(out.text_embeds, 'text_embeds'), want.text_embeds!)).toBeLessThan(1e-4);
  });

  it('text encoder 1: hidden_states[-2] of a CLIPTextModel (text-clip-l)', async () => {
    const config = parseCLIPTextConfig(await json('text-clip-l'), 'text-clip-l');
    const inputs = await readAll('text-clip-l', 'inputs.safetensors');
    const want = await readAll('text-clip-l', 'outputs.safetensors');
    const g = textEncoderGraph(config, 77, settings, { hidden: 'penultimate' });
    const out = await runOnce(runtime, await bindFolder(g, new CaseSource(join(GOLDEN, 'text-clip-l')), '', clipBindOptions), { input_ids: inputs.input_ids! });
    expect(Object.keys(out)).toEqual(['prompt_embeds']);
    expect(relErr(float32(out.prompt_embeds, 'prompt_embeds'), want['hidden_states.2']!)).toBeLessThan(1e-4);
  });

  it('SDXL’s scheduler config: Euler with "leading" spacing and steps_offset 1 gives diffusers’ timesteps', () => {
    // diffusers: (np.arange(0, N) * (1000 // N)).round()[::-1] + steps_offset; with "leading" spacing
    // init_noise_sigma = sqrt(σ(t₀)² + 1), σ(t) = sqrt((1 − ᾱ_t) / ᾱ_t) on the scaled_linear betas.
    const s = schedulerFromConfig(SDXL_SCHEDULER, 'scheduler');
    s.setTimesteps(3);
    expect(s.timesteps).toEqual([667, 334, 1]);
    s.setTimesteps(4);
    expect(s.timesteps).toEqual([751, 501, 251, 1]);
    let alphaBar = 1;
    for (let t = 0; t <= 751; t++) alphaBar *= 1 - (Math.sqrt(0.00085) + ((Math.sqrt(0.012) - Math.sqrt(0.00085)) * t) / 999) ** 2;
    const sigma = Math.sqrt((1 - alphaBar) / alphaBar);
    expect(Math.abs(s.initNoiseSigma / Math.sqrt(sigma ** 2 + 1) - 1)).toBeLessThan(1e-5);
  });

  it('U-Net step with text_embeds and time_ids (unet-sdxl)', async () => {
    const config = parseUNetConfig(await json('unet-sdxl'), 'unet-sdxl');
    const x = await readAll('unet-sdxl', 'inputs.safetensors');
    const want = float32((await readAll('unet-sdxl', 'outputs.safetensors')).sample, 'sample');
    const side = { config, contextDim: 48, contextLength: 77, added: { textEmbedsDim: 16, timeIds: 6 } };
    const g = unetStepGraph(side, { batch: 1, latentHeight: 16, latentWidth: 16, guidance: false }, settings);
    // The graph's parameters live under `unet.`: bind the case's weights there.
    const bound = await bindFolder(g, new CaseSource(join(GOLDEN, 'unet-sdxl')), '', { fileKeyToModelKey: (k) => `unet.${k}` });
    const row = (t: Tensor, i: number) => new Tensor('float32', [1, ...t.shape.slice(1)], (t.data as Float32Array).slice((i * t.size) / t.shape[0]!, ((i + 1) * t.size) / t.shape[0]!));
    // The two rows have different timesteps (999, 250); the step graph takes one per run.
    for (const i of [0, 1]) {
      const feeds = { sample: row(x.sample!, i), encoder_hidden_states: row(x.encoder_hidden_states!, i), text_embeds: row(x.text_embeds!, i), time_ids: row(x.time_ids!, i) };
      const out = await runOnce(runtime, bound, { ...feeds, timestep: new Tensor('float32', [], Float32Array.of(Number(x.timestep!.data[i]))) });
      expect(relErr(float32(out.noise_pred, 'noise_pred'), row(want, i))).toBeLessThan(1e-4);
    }
  });
});

describe('StableDiffusionXLPipeline on a tiny SDXL folder', () => {
  let folder: SdxlFolder;
  let pipe: StableDiffusionPipeline;
  const counting = countingRuntime(runtime);
  beforeAll(async () => {
    folder = await sdxlFolder();
    pipe = await StableDiffusionPipeline.load(folder.source, counting);
  });
  afterAll(async () => {
    await pipe?.dispose();
    folder?.cleanup();
  });

  const run = async (c: SdxlCall, extra: object = {}) => {
    const { float } = await pipe.generate({
      prompt: c.prompt,
      ...(c.prompt2 !== undefined ? { prompt2: c.prompt2 } : {}),
      ...(c.negativePrompt !== undefined ? { negativePrompt: c.negativePrompt } : {}),
      steps: c.steps,
      guidanceScale: c.guidanceScale,
      seed: c.seed,
      float: true,
      ...extra,
    });
    return float!;
  };
  const base: SdxlCall = { prompt: 'a red circle', steps: 1, guidanceScale: 0, seed: 3, width: 32, height: 32 };

  it('takes its default size from sample_size × the VAE factor, and says what it is', async () => {
    expect(pipe.defaultSize).toEqual({ width: 32, height: 32 });
    expect(pipe.unetSide).toMatchObject({ contextDim: 48, added: { textEmbedsDim: 16, timeIds: 6 } });
    const info = pipe.info();
    expect(info.pipeline).toBe('StableDiffusionXLPipeline');
    expect(info.components.map((c) => `${c.name}:${c.className}`)).toEqual(expect.arrayContaining(['text_encoder:CLIPTextModel', 'text_encoder_2:CLIPTextModelWithProjection']));
    expect(info.conditioning).toEqual({ family: 'sdxl', contextDim: 48, hidden: 'penultimate', added: { textEmbedsDim: 16, timeIds: 6, forceZerosForEmptyPrompt: true } });
    // Every tensor both text encoder graphs, the U-Net and the VAE read is in the files.
    expect(await pipe.checkWeights()).toBeGreaterThan(0);
  });

  it('one step, no guidance: equals the composition', async () => {
    expect(maxAbsDiff(await run(base), await referenceImage(runtime, folder.source, base))).toBeLessThan(1e-4);
  });

  it('several steps (leading spacing, steps_offset 1) with guidance and no negative prompt (force_zeros)', async () => {
    const c = { ...base, steps: 3, guidanceScale: 5, prompt2: 'oil painting' };
    expect(maxAbsDiff(await run(c), await referenceImage(runtime, folder.source, c))).toBeLessThan(1e-4);
  });

  it('guidance with a negative prompt encodes it (also when it is "")', async () => {
    const c = { ...base, steps: 2, guidanceScale: 4, negativePrompt: 'blurry' };
    expect(maxAbsDiff(await run(c), await referenceImage(runtime, folder.source, c))).toBeLessThan(1e-4);
    const empty = await pipe.conditioning(pipe.checkRequest({ prompt: 'a cat', guidanceScale: 4, negativePrompt: '' }));
    const ref = await referenceConditioning(runtime, folder.source, { ...base, prompt: 'a cat', guidanceScale: 4, negativePrompt: '' });
    expect(maxAbsDiff(empty.encoderHiddenStates, ref.encoder_hidden_states!)).toBeLessThan(1e-5);
    expect(Math.max(...Array.from(empty.encoderHiddenStates.data.subarray(0, 77 * 48), Math.abs))).toBeGreaterThan(0.01);
  });

  it('original size, crop and target size reach the U-Net', async () => {
    const sizes = { originalSize: { width: 64, height: 48 }, cropsCoordsTopLeft: { top: 4, left: 8 }, targetSize: { width: 40, height: 24 } };
    const c = { ...base, timeIds: [48, 64, 4, 8, 24, 40] };
    const image = await run(c, sizes);
    expect(maxAbsDiff(image, await referenceImage(runtime, folder.source, c))).toBeLessThan(1e-4);
    expect(maxAbsDiff(image, await run(base))).toBeGreaterThan(1e-3);
    // Negative time ids: the positive ones unless both negative sizes are given (StableDiffusionXLPipeline).
    const r = pipe.checkRequest({ prompt: 'a', guidanceScale: 2, ...sizes, negativeOriginalSize: { width: 8, height: 8 } });
    expect(Array.from((await pipe.conditioning(r)).timeIds!.data)).toEqual([48, 64, 4, 8, 24, 40, 48, 64, 4, 8, 24, 40]);
    const both = pipe.checkRequest({ prompt: 'a', guidanceScale: 2, ...sizes, negativeOriginalSize: { width: 8, height: 6 }, negativeTargetSize: { width: 16, height: 12 } });
    expect(Array.from((await pipe.conditioning(both)).timeIds!.data)).toEqual([6, 8, 0, 0, 12, 16, 48, 64, 4, 8, 24, 40]);
    expect(Array.from((await pipe.conditioning(both, 'img2img')).timeIds!.data.subarray(0, 6))).toEqual([6, 8, 0, 0, 12, 16]);
    // diffusers: torch.cat([negative, positive]).repeat(batch, 1) — the rows alternate, unlike the embeddings' [negatives…, positives…].
    const two = pipe.checkRequest({ prompt: ['a', 'a'], guidanceScale: 2, ...sizes, negativeOriginalSize: { width: 8, height: 6 }, negativeTargetSize: { width: 16, height: 12 } });
    const n = [6, 8, 0, 0, 12, 16];
    const p = [48, 64, 4, 8, 24, 40];
    expect(Array.from((await pipe.conditioning(two)).timeIds!.data)).toEqual([...n, ...p, ...n, ...p]);
  });

  it('records the size conditioning and prompt_2 in the sdxs JSON record (A1111’s infotext has no field for them)', async () => {
    const { images } = await pipe.generate({ prompt: 'a', prompt2: 'b', seed: 1, cropsCoordsTopLeft: { top: 2, left: 6 }, targetSize: { width: 40, height: 24 } });
    expect(images[0]!.record.sdxl).toEqual({ prompt_2: 'b', original_size: [32, 32], crops_coords_top_left: [2, 6], target_size: [24, 40] });
    expect(images[0]!.infotext).toMatch(/^a\nSteps: 1, /);
  });

  it('caches prompt rows by both encoders’ ids: a new prompt_2 reruns the encoders, a repeat does not', async () => {
    const runs = () => [counting.runs.get('text-encoder-penultimate') ?? 0, counting.runs.get('text-encoder-2') ?? 0];
    const [one, two] = runs();
    const a = await pipe.conditioning(pipe.checkRequest({ prompt: 'a cache test' }));
    const b = await pipe.conditioning(pipe.checkRequest({ prompt: 'a cache test', prompt2: 'another' }));
    const again = await pipe.conditioning(pipe.checkRequest({ prompt: 'a cache test' }));
    expect(runs()).toEqual([one! + 2, two! + 2]);
    expect(maxAbsDiff(a.encoderHiddenStates, again.encoderHiddenStates)).toBe(0);
    expect(maxAbsDiff(a.encoderHiddenStates, b.encoderHiddenStates)).toBeGreaterThan(0);
    // text_encoder's half is the same for both (same prompt); text_encoder_2's and the pooled row differ.
    expect(maxAbsDiff(a.textEmbeds!, b.textEmbeds!)).toBeGreaterThan(0);
  });
});

describe('force_zeros_for_empty_prompt false', () => {
  it('encodes "" for the negative rows when no negative prompt is given', async () => {
    const folder = await sdxlFolder({ index: { force_zeros_for_empty_prompt: false } });
    const pipe = await StableDiffusionPipeline.load(folder.source, runtime);
    try {
      const got = await pipe.conditioning(pipe.checkRequest({ prompt: 'a cat', guidanceScale: 3 }));
      const want = await referenceConditioning(runtime, folder.source, { prompt: 'a cat', guidanceScale: 3, steps: 1, seed: 0, width: 32, height: 32, forceZeros: false });
      expect(maxAbsDiff(got.encoderHiddenStates, want.encoder_hidden_states!)).toBeLessThan(1e-5);
      expect(maxAbsDiff(got.textEmbeds!, want.text_embeds!)).toBeLessThan(1e-5);
    } finally {
      await pipe.dispose();
      folder.cleanup();
    }
  });
});
