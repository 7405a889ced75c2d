import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlNetPipeline, parseModelIndex } from '@sdxs/pipeline';
import { LocalFolderSource } from '@sdxs/runtime-node';
import type { ModelSource } from '@sdxs/tensor';
import { buildControlNetCase, type BuiltCase } from '../../../tools/golden/build-controlnet-case.js';
import type { MaterializedFolder } from '../../../tools/golden/materialize.js';
import { runCase } from '../../../tools/golden/run.js';
import { countingRuntime, goldenModel, goldenSource, maxAbsDiff, withFiles } from './_helpers.js';

// The pipeline-controlnet case is built here (../shared/golden has none): its expected image comes from sdxs's
// separately tested pieces run one by one (tools/golden/build-controlnet-case.ts), not from diffusers.
describe('ControlNetPipeline (StableDiffusionControlNetPipeline, one step)', () => {
  let built: BuiltCase;
  let source: ModelSource;
  let pipe: ControlNetPipeline;
  const size = { width: 128, height: 128 };
  let control: { width: number; height: number; data: Uint8Array; channels: 3 };
  const prompt = 'a sketch of a round house by a road';

  beforeAll(async () => {
    built = await buildControlNetCase({ prompt, seed: 7, ...size, controlnetConditioningScale: 0.8 });
    source = new LocalFolderSource(join(built.dir, 'model'));
    control = { ...size, data: built.controlImage, channels: 3 };
    pipe = await ControlNetPipeline.load(source, undefined, countingRuntime());
  });
  afterAll(async () => {
    await pipe?.dispose();
    built?.cleanup();
  });

  it('passes the golden runner on the built pipeline-controlnet case within 2/255', async () => {
    const report = await runCase(built.dir);
    const [cmp] = report.comparisons;
    console.log(`pipeline-controlnet: max |image - unfused reference| = ${cmp!.maxAbs.toExponential(2)} (${(cmp!.maxAbs * 255).toFixed(4)}/255)`);
    expect(report.status).toBe('pass');
    expect(report.comparisons).toHaveLength(1);
    expect(cmp!.maxAbs).toBeLessThanOrEqual(2 / 255);
  });

  it('the ControlNet matters: scale 0 is the text-to-image image, 0.8 is far from it', async () => {
    const seed = 7;
    const t2i = await pipe.base.generate({ prompt, seed, ...size, float: true });
    const off = await pipe.generate({ prompt, seed, image: control, controlScale: 0, float: true });
    const on = await pipe.generate({ prompt, seed, image: control, controlScale: 0.8, float: true });
    // Zero residuals add nothing: only the graphs' float32 evaluation order differs.
    expect(maxAbsDiff(off.float!, t2i.float!)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(on.float!, t2i.float!)).toBeGreaterThan(0.05);
  });

  it('takes the conditioning scale as a graph input: a slider builds nothing new', async () => {
    await pipe.generate({ prompt, seed: 1, image: control, controlScale: 0.5 });
    const before = pipe.base.graphStats;
    const a = await pipe.generate({ prompt, seed: 1, image: control, controlScale: 0.3, float: true });
    const b = await pipe.generate({ prompt, seed: 1, image: control, controlScale: 1.2, float: true });
    expect(pipe.base.graphStats).toEqual(before);
    expect(maxAbsDiff(a.float!, b.float!)).toBeGreaterThan(0.01);
  });

  it('guidance with the prompt as its own negative gives the unguided image (doubled ControlNet batch wired right)', async () => {
    const plain = await pipe.generate({ prompt, seed: 3, image: control, controlScale: 0.8, float: true });
    // uncond == cond, so uncond + g·(cond − uncond) == cond whatever g.
    const guided = await pipe.generate({ prompt, negativePrompt: prompt, guidanceScale: 4, seed: 3, image: control, controlScale: 0.8, float: true });
    expect(maxAbsDiff(guided.float!, plain.float!)).toBeLessThanOrEqual(1e-5);
  });

  it('fused one-step graph == ControlNet U-Net step graph + TypeScript Euler step + decode graph', async () => {
    const unfused = await ControlNetPipeline.load(source, undefined, countingRuntime(), { fuseOneStep: false });
    try {
      const a = await pipe.generate({ prompt, seed: 11, image: control, controlScale: 0.8, float: true });
      const b = await unfused.generate({ prompt, seed: 11, image: control, controlScale: 0.8, float: true });
      expect([a.fused, b.fused]).toEqual([true, false]);
      expect(maxAbsDiff(a.float!, b.float!)).toBeLessThanOrEqual(1e-5);
    } finally {
      await unfused.dispose();
    }
  });

  it('is deterministic per seed and sizes the output from the control image, rounded down to 8', async () => {
    const a = await pipe.generate({ prompt, seed: 5, image: control, controlScale: 0.8 });
    const b = await pipe.generate({ prompt, seed: 5, image: control, controlScale: 0.8 });
    expect(Buffer.from(a.images[0]!.data).equals(Buffer.from(b.images[0]!.data))).toBe(true);
    const odd = { width: 100, height: 70, data: new Uint8Array(100 * 70 * 4).fill(200) };
    const { images } = await pipe.generate({ prompt, seed: 5, image: odd });
    expect([images[0]!.width, images[0]!.height]).toEqual([96, 64]);
  });

  it('refuses bad requests with the field named', async () => {
    await expect(pipe.generate({ prompt } as Parameters<ControlNetPipeline['generate']>[0])).rejects.toThrow(/"image" \(the control image\) is required/);
    await expect(pipe.generate({ prompt, image: control, controlScale: Number.NaN })).rejects.toThrow(/"controlScale" must be a finite number/);
    await expect(pipe.generate({ prompt, image: { width: 4, height: 4, data: new Uint8Array(5) } })).rejects.toThrow(/control image/);
  });
});

describe('ControlNetPipeline loading', () => {
  let model: MaterializedFolder;
  let built: BuiltCase;
  beforeAll(async () => {
    model = goldenModel();
    built = await buildControlNetCase({ width: 32, height: 32 });
  });
  afterAll(() => {
    model?.cleanup();
    built?.cleanup();
  });
  const controlnetDir = () => ({ source: new LocalFolderSource(join(built.dir, 'model')), dir: 'controlnet' });

  it('accepts a ControlNet pipeline folder in model_index.json and names its controlnet', async () => {
    const index = JSON.parse(await new LocalFolderSource(join(built.dir, 'model')).readText('model_index.json')) as unknown;
    expect(parseModelIndex(index, 'mi.json').controlnet).toEqual({ library: 'diffusers', className: 'ControlNetModel' });
    expect(() => parseModelIndex({ ...(index as object), controlnet: ['diffusers', 'MultiControlNetModel'] }, 'mi.json')).toThrow(/"controlnet" is class MultiControlNetModel.*supported: ControlNetModel/);
  });

  it('loads a text-to-image folder with a ControlNet from elsewhere, and refuses one without any', async () => {
    const pipe = await ControlNetPipeline.load(goldenSource(model), controlnetDir(), countingRuntime());
    expect(pipe.controlnetConfig.block_out_channels).toEqual([32, 64, 128]);
    expect(pipe.info().components.map((c) => [c.name, c.className, c.dir])).toEqual([
      ['text_encoder', 'CLIPTextModel', 'text_encoder'],
      ['unet', 'UNet2DConditionModel', 'unet'],
      ['vae', 'AutoencoderTiny', 'vae'],
      ['controlnet', 'ControlNetModel', 'controlnet'],
    ]);
    await pipe.dispose();
    await expect(ControlNetPipeline.load(goldenSource(model), undefined, countingRuntime())).rejects.toThrow(/StableDiffusionPipeline has no controlnet; pass a ControlNet folder/);
  });

  it('refuses a ControlNet that does not fit the U-Net or text encoder, naming its config', async () => {
    const where = controlnetDir();
    const json = JSON.parse(await where.source.readText('controlnet/config.json')) as Record<string, unknown>;
    const swap = (changes: Record<string, unknown>) => ({ source: withFiles(where.source, { 'controlnet/config.json': JSON.stringify({ ...json, ...changes }) }), dir: 'controlnet' });
    await expect(ControlNetPipeline.load(goldenSource(model), swap({ cross_attention_dim: 64 }), countingRuntime())).rejects.toThrow(
      /controlnet\/config\.json: cross_attention_dim 64 does not match the text encoder's hidden_size 32/,
    );
    await expect(ControlNetPipeline.load(goldenSource(model), swap({ conditioning_embedding_out_channels: [8, 16, 32] }), countingRuntime())).rejects.toThrow(
      /downsample the control image 4×, but the VAE's latents are 8× smaller/,
    );
    await expect(ControlNetPipeline.load(goldenSource(model), swap({ global_pool_conditions: true }), countingRuntime())).rejects.toThrow(/global_pool_conditions/);
  });
});
