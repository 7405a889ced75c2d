import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assembleWeights,
  decodeGraph,
  MemoryGraphCache,
  newScheduler,
  packGraph,
  PromptEmbeddingCache,
  StableDiffusionPipeline,
  UNET_COMPONENTS,
  unetStepGraph,
  VAE_COMPONENTS,
  type GenerateRequest,
} from '@sdxs/pipeline';
import type { SchedulerClassName } from '@sdxs/schedulers';
import { Generator, Tensor, type Runtime, type Session } from '@sdxs/tensor';
import { createNodeRuntime } from '@sdxs/runtime-node';
import type { Graph } from '@sdxs/graph';
import type { ComponentPrefix } from '@sdxs/pipeline';
import type { MaterializedFolder } from '../../../tools/golden/materialize.js';
import { goldenModel, goldenSource, maxAbsDiff } from './_helpers.js';

const runtime: Runtime = createNodeRuntime({ intraOpThreads: 2 });
// Small images keep these multi-step runs fast on two cores; the U-Net is the golden SDXS-layout one.
const size = { width: 64, height: 64 } as const;

async function sessionFor(pipe: StableDiffusionPipeline, graph: Graph, components: readonly ComponentPrefix[]): Promise<Session> {
  const packed = packGraph(graph, components);
  const externalData = await assembleWeights(packed.manifest, pipe.components.weights);
  return runtime.createSession(packed.model, { externalData });
}

async function run(session: Session, feeds: Record<string, Tensor>, output: string): Promise<Tensor<'float32'>> {
  const t = (await session.run(feeds, [output]))[output];
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`no float32 ${output}`);
  return new Tensor('float32', t.shape, t.data);
}

describe('multi-step sampling with classifier-free guidance (golden components, Euler)', () => {
  let model: MaterializedFolder;
  let pipe: StableDiffusionPipeline;
  const request: GenerateRequest = { prompt: ['a photo of a cat', 'a red car'], negativePrompt: 'blurry', steps: 3, guidanceScale: 4, seed: 5, float: true, ...size };
  beforeAll(async () => {
    model = goldenModel();
    pipe = await StableDiffusionPipeline.load(goldenSource(model), runtime);
  });
  afterAll(async () => {
    await pipe?.dispose();
    model?.cleanup();
  });

  it('is deterministic for a seed; guidance > 1 changes the image; guidance 1 and 0 are both unguided', async () => {
    const a = await pipe.generate(request);
    const b = await pipe.generate(request);
    expect(a.fused).toBe(false);
    expect(Array.from(b.float!.data)).toEqual(Array.from(a.float!.data));
    const g1 = await pipe.generate({ ...request, guidanceScale: 1 });
    const g0 = await pipe.generate({ ...request, guidanceScale: 0 });
    expect(Array.from(g0.float!.data)).toEqual(Array.from(g1.float!.data));
    expect(maxAbsDiff(a.float!, g1.float!)).toBeGreaterThan(1e-2);
    // The negative prompt only matters with guidance.
    const otherNegative = await pipe.generate({ ...request, negativePrompt: ['ugly', 'dark'] });
    expect(maxAbsDiff(a.float!, otherNegative.float!)).toBeGreaterThan(1e-3);
    const unguidedOtherNegative = await pipe.generate({ ...request, guidanceScale: 1, negativePrompt: 'ugly' });
    expect(Array.from(unguidedOtherNegative.float!.data)).toEqual(Array.from(g1.float!.data));
  });

  it('one step with guidance and several images per prompt: the fused graph equals the unfused path', async () => {
    const unfused = await StableDiffusionPipeline.load(goldenSource(model), runtime, { fuseOneStep: false });
    try {
      const one: GenerateRequest = { ...request, steps: 1, numImagesPerPrompt: 2 };
      const a = await pipe.generate(one);
      const b = await unfused.generate(one);
      expect([a.fused, b.fused, a.images.length]).toEqual([true, false, 4]);
      const err = maxAbsDiff(a.float!, b.float!);
      console.log(`one step with CFG: fused vs unfused max abs ${err.toExponential(2)}`);
      expect(err).toBeLessThan(1e-4);
      // prompt-major order: images 0 and 1 share prompt 0 but not their noise.
      expect(Buffer.compare(Buffer.from(a.images[0]!.data), Buffer.from(a.images[1]!.data))).not.toBe(0);
    } finally {
      await unfused.dispose();
    }
  });

  it("equals diffusers' loop recomputed in TypeScript from separate unconditional and conditional U-Net calls", async () => {
    const result = await pipe.generate(request);
    const c = pipe.components;
    const prompts = request.prompt as string[];
    const cond = await pipe.encodePrompt(prompts);
    const uncond = await pipe.encodePrompt(prompts.map(() => 'blurry'));
    const shape = { batch: 2, latentHeight: size.height / 8, latentWidth: size.width / 8 };
    const unet = await sessionFor(
      pipe,
      unetStepGraph({ config: c.unetConfig, contextDim: c.textConfig.hidden_size, contextLength: 77 }, { ...shape, guidance: false }, pipe.settings),
      UNET_COMPONENTS,
    );
    const decode = await sessionFor(pipe, decodeGraph(c.vae, shape, pipe.settings), VAE_COMPONENTS);
    try {
      const scheduler = newScheduler(c);
      scheduler.setTimesteps(3);
      const generator = new Generator(5);
      const z = generator.randn([2, 4, shape.latentHeight, shape.latentWidth]);
      let x = new Tensor('float32', z.shape, z.data.map((v) => v * Math.fround(scheduler.initNoiseSigma)));
      for (const t of scheduler.timesteps) {
        const sample = scheduler.scaleModelInput(x, t);
        const timestep = new Tensor('float32', [], Float32Array.of(t));
        const u = await run(unet, { sample, timestep, encoder_hidden_states: uncond }, 'noise_pred');
        const k = await run(unet, { sample, timestep, encoder_hidden_states: cond }, 'noise_pred');
        const g = Math.fround(4);
        const eps = u.data.map((uv, i) => uv + Math.fround(g * Math.fround(k.data[i]! - uv)));
        x = scheduler.step(new Tensor('float32', u.shape, eps), t, x, { generator }).prevSample;
      }
      const image = await run(decode, { latents: x }, 'image');
      const err = maxAbsDiff(result.float!, image);
      console.log(`CFG in the graph vs two U-Net calls in TS: max abs ${err.toExponential(2)}`);
      // Only the U-Net's batch size differs (4 vs 2), which can reorder float32 sums.
      expect(err).toBeLessThan(1e-4);
    } finally {
      await unet.dispose();
      await decode.dispose();
    }
  });
});

describe('every scheduler class on the golden components', () => {
  let model: MaterializedFolder;
  beforeAll(() => {
    model = goldenModel();
  });
  afterAll(() => model?.cleanup());
  const classes: SchedulerClassName[] = ['EulerDiscreteScheduler', 'EulerAncestralDiscreteScheduler', 'DDPMScheduler', 'DDIMScheduler', 'LCMScheduler', 'DPMSolverMultistepScheduler'];
  const cache = new MemoryGraphCache();
  const promptCache = new PromptEmbeddingCache();

  for (const scheduler of classes) {
    it(`${scheduler}: the fused one-step graph equals step() in TypeScript; two steps are deterministic`, async () => {
      const fused = await StableDiffusionPipeline.load(goldenSource(model), runtime, { scheduler, cache, promptCache });
      const unfused = await StableDiffusionPipeline.load(goldenSource(model), runtime, { scheduler, cache, promptCache, fuseOneStep: false });
      try {
        const req: GenerateRequest = { prompt: 'a photo of a cat', seed: 3, float: true, ...size };
        const a = await fused.generate(req);
        const b = await unfused.generate(req);
        expect([a.fused, b.fused]).toEqual([true, false]);
        const err = maxAbsDiff(a.float!, b.float!);
        console.log(`${scheduler}: fused vs step() max abs ${err.toExponential(2)}`);
        expect(err).toBeLessThan(1e-4);
        const two = await unfused.generate({ ...req, steps: 2 });
        const twoAgain = await unfused.generate({ ...req, steps: 2 });
        expect(Array.from(twoAgain.float!.data)).toEqual(Array.from(two.float!.data));
        expect(two.float!.data.every((v) => v >= 0 && v <= 1)).toBe(true);
      } finally {
        await fused.dispose();
        await unfused.dispose();
      }
    });
  }
});
