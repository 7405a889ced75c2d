// One generate call's own progress and abort, the images' PNG with their parameters, the graph target following
// the runtime, and the model's default steps — on the golden SDXS-512-layout components.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng, readUserComment } from '@sdxs/image';
import { graphTarget, SDXS_VERSION, StableDiffusionPipeline, type ProgressEvent } from '@sdxs/pipeline';
import { createNodeRuntime } from '@sdxs/runtime-node';
import type { Runtime } from '@sdxs/tensor';
import type { MaterializedFolder } from '../../../tools/golden/materialize.js';
import { countingRuntime, goldenModel, goldenSource } from './_helpers.js';
import { readFileSync } from 'node:fs';

const SIZE = { width: 64, height: 64 };
let model: MaterializedFolder;
beforeAll(() => {
  model = goldenModel();
});
afterAll(() => model?.cleanup());

describe('per-call progress', () => {
  it('each call tells its own callback (builds made for it included) and the pipeline’s; one step reports the fused graph', async () => {
    const atLoad: ProgressEvent[] = [];
    const pipe = await StableDiffusionPipeline.load(goldenSource(model), createNodeRuntime({ intraOpThreads: 2 }), { onProgress: (e) => atLoad.push(e) });
    try {
      const first: ProgressEvent[] = [];
      await pipe.generate({ prompt: 'a cat', seed: 1, ...SIZE, onProgress: (e) => first.push(e) });
      const stages = first.map((e) => e.stage);
      expect(stages).toContain('build');
      expect(stages).toContain('session');
      expect(first.filter((e) => e.stage === 'encode').map((e) => e.ms !== undefined)).toEqual([false, true]);
      const steps = first.filter((e) => e.stage === 'step');
      expect(steps).toHaveLength(1);
      expect(steps[0]).toMatchObject({ step: 1, steps: 1, fused: true });
      expect((steps[0] as { ms: number }).ms).toBeGreaterThan(0);

      const second: ProgressEvent[] = [];
      const before = atLoad.length;
      const heardByFirst = first.length;
      await pipe.generate({ prompt: 'a cat', seed: 2, ...SIZE, steps: 3, onProgress: (e) => second.push(e) });
      // The prompt is cached: no encode. Three U-Net steps, then the decode graph.
      expect(second.filter((e) => e.stage === 'encode')).toEqual([]);
      expect(second.filter((e) => e.stage === 'step').map((e) => (e as { step: number }).step)).toEqual([1, 2, 3]);
      expect(second.at(-1)).toMatchObject({ stage: 'decode' });
      expect(first.length).toBe(heardByFirst); // the first call's callback heard nothing of the second
      expect(atLoad.slice(before)).toEqual(second);
    } finally {
      await pipe.dispose();
    }
  });

  it('refuses an onProgress that is not a function', async () => {
    const pipe = await StableDiffusionPipeline.load(goldenSource(model), createNodeRuntime({ intraOpThreads: 2 }));
    try {
      await expect(pipe.generate({ prompt: 'a cat', ...SIZE, onProgress: 'yes' as never })).rejects.toThrow(/"onProgress" must be a function/);
    } finally {
      await pipe.dispose();
    }
  });
});

describe('per-call abort', () => {
  let abortAt: { label: string; controller: AbortController } | undefined;
  let runtime: ReturnType<typeof countingRuntime>;
  let pipe: StableDiffusionPipeline;
  beforeAll(async () => {
    runtime = countingRuntime(createNodeRuntime({ intraOpThreads: 2 }), (label) => {
      if (abortAt?.label === label) abortAt.controller.abort();
    });
    pipe = await StableDiffusionPipeline.load(goldenSource(model), runtime);
  });
  afterAll(() => pipe?.dispose());

  const reference = () => pipe.generate({ prompt: 'a dog', seed: 7, ...SIZE });

  it('an abort that lands while the fused one-step graph runs rejects with an AbortError, and the pipeline works on', async () => {
    const before = await reference();
    const controller = new AbortController();
    abortAt = { label: 'one-step', controller };
    const runs = runtime.runs.get('one-step') ?? 0;
    await expect(pipe.generate({ prompt: 'a dog', seed: 7, ...SIZE, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    abortAt = undefined;
    expect(runtime.runs.get('one-step')).toBe(runs + 1);
    const after = await reference();
    expect(Buffer.from(after.images[0]!.data).equals(Buffer.from(before.images[0]!.data))).toBe(true);
  });

  it('an abort during a multi-step run stops before the next step and never decodes', async () => {
    const controller = new AbortController();
    const unet = runtime.runs.get('unet-step') ?? 0;
    const decode = runtime.runs.get('decode') ?? 0;
    const p = pipe.generate({
      prompt: 'a dog',
      seed: 7,
      ...SIZE,
      steps: 4,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.stage === 'step' && e.step === 2) controller.abort(new Error('enough'));
      },
    });
    await expect(p).rejects.toThrow('enough');
    expect(runtime.runs.get('unet-step')).toBe(unet + 2);
    expect(runtime.runs.get('decode') ?? 0).toBe(decode);
  });

  it('an already aborted signal runs nothing, the text encoder included', async () => {
    const controller = new AbortController();
    controller.abort();
    const total = [...runtime.runs.values()].reduce((a, b) => a + b, 0);
    await expect(pipe.generate({ prompt: 'never encoded', ...SIZE, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect([...runtime.runs.values()].reduce((a, b) => a + b, 0)).toBe(total);
  });

  it('an abort while the text encoder runs stops before the U-Net', async () => {
    const controller = new AbortController();
    abortAt = { label: 'text-encoder', controller };
    const runs = runtime.runs.get('one-step') ?? 0;
    await expect(pipe.generate({ prompt: 'a prompt not seen before', ...SIZE, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    abortAt = undefined;
    expect(runtime.runs.get('one-step') ?? 0).toBe(runs);
  });
});

describe('images carry their parameters', () => {
  it('toPng() writes A1111’s parameters and the sdxs record; the pixels read back the same', async () => {
    const pipe = await StableDiffusionPipeline.load(goldenSource(model), createNodeRuntime({ intraOpThreads: 2 }), { name: 'golden-sdxs' });
    try {
      const { images } = await pipe.generate({ prompt: ['a red cat', 'a blue dog'], negativePrompt: 'blurry', guidanceScale: 2, seed: 42, numImagesPerPrompt: 2, ...SIZE });
      expect(images).toHaveLength(4);
      const third = images[2]!;
      expect(third.parameters).toMatchObject({ prompt: 'a blue dog', negativePrompt: 'blurry', seed: 42n, steps: 1, guidanceScale: 2, batchSize: 4, batchIndex: 3, model: 'golden-sdxs', width: 64, height: 64 });
      expect(third.infotext).toBe(
        `a blue dog\nNegative prompt: blurry\nSteps: 1, Sampler: Euler, CFG scale: 2.0, Seed: 42, Size: 64x64, Model: golden-sdxs, Batch size: 4, Batch pos: 2, Version: sdxs ${SDXS_VERSION}`,
      );
      const png = decodePng(third.toPng());
      expect(Buffer.from(png.data).equals(Buffer.from(third.data))).toBe(true);
      expect(png.text.parameters).toBe(third.infotext);
      expect(JSON.parse(png.text.sdxs!)).toMatchObject({ prompt: 'a blue dog', seed: '42', steps: 1, guidance_scale: 2, model: 'golden-sdxs', execution_provider: 'cpu', dtype: 'float32' });
      expect(third.record).toEqual(JSON.parse(png.text.sdxs!));
      expect(decodePng(third.toPng({ metadata: false })).text).toEqual({});
      const blob = await third.toBlob();
      expect(blob.type).toBe('image/png');
      expect(Buffer.from(await blob.arrayBuffer()).equals(Buffer.from(third.toPng()))).toBe(true);
      await expect(third.toImageBitmap()).rejects.toThrow(/createImageBitmap/);
      // JPEG and WebP carry the infotext as the EXIF UserComment, as A1111 writes them.
      const jpeg = await third.toJpeg({ quality: 80 });
      expect(readUserComment(jpeg)).toBe(third.infotext);
      const webp = await third.toBlob('image/webp');
      expect(webp.type).toBe('image/webp');
      expect(readUserComment(new Uint8Array(await webp.arrayBuffer()))).toBe(third.infotext);
      expect(readUserComment(await third.toWebp({ metadata: false }))).toBeUndefined();
      await expect(third.toBlob('image/gif' as never)).rejects.toThrow(/type must be image\/png, image\/jpeg or image\/webp/);
    } finally {
      await pipe.dispose();
    }
  });

  it('a prompt outside Latin-1 is stored as UTF-8 (iTXt) and reads back whole', async () => {
    const pipe = await StableDiffusionPipeline.load(goldenSource(model), createNodeRuntime({ intraOpThreads: 2 }));
    try {
      const { images } = await pipe.generate({ prompt: '一只猫 🐱', seed: 3, ...SIZE });
      expect(decodePng(images[0]!.toPng()).text.parameters?.startsWith('一只猫 🐱\nSteps: 1')).toBe(true);
    } finally {
      await pipe.dispose();
    }
  });

  it('SDXS_VERSION is the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(SDXS_VERSION).toBe(pkg.version);
  });
});

describe('the graph target follows the runtime', () => {
  const fake = (provider?: string): Runtime => ({ name: `fake/${provider}`, ...(provider ? { provider } : {}), createSession: () => Promise.reject(new Error('unused')) });

  it('builds for the provider; a target that does not fit it throws', () => {
    expect(graphTarget(fake('cpu'))).toBe('cpu');
    expect(graphTarget(fake('cpu'), 'wasm')).toBe('wasm');
    expect(graphTarget(fake('webgpu'))).toBe('webgpu');
    expect(graphTarget(fake('cuda'))).toBe('cuda');
    expect(graphTarget(fake('wasm'))).toBe('wasm');
    expect(() => graphTarget(fake('webgpu'), 'cpu')).toThrow(/target "cpu" does not fit fake\/webgpu, which runs on the webgpu execution provider: build for "webgpu"/);
    expect(() => graphTarget(fake('cpu'), 'cuda')).toThrow(/does not fit/);
    expect(graphTarget(fake())).toBe('cpu');
    expect(graphTarget(fake(), 'webgpu')).toBe('webgpu');
  });

  it('load refuses a mismatched target before reading anything heavy', async () => {
    await expect(StableDiffusionPipeline.load(goldenSource(model), fake('webgpu'), { target: 'cpu' })).rejects.toThrow(/does not fit/);
  });

  it('a model’s default steps and guidance apply when a request leaves them out', async () => {
    const runtime = countingRuntime(createNodeRuntime({ intraOpThreads: 2 }));
    const pipe = await StableDiffusionPipeline.load(goldenSource(model), runtime, { defaults: { steps: 2, guidanceScale: 3 } });
    try {
      const { images } = await pipe.generate({ prompt: 'a cat', seed: 0, ...SIZE });
      expect(images[0]!.parameters).toMatchObject({ steps: 2, guidanceScale: 3 });
      expect(runtime.runs.get('unet-step')).toBe(2);
      const one = await pipe.generate({ prompt: 'a cat', seed: 0, ...SIZE, steps: 1, guidanceScale: 0 });
      expect(one.fused).toBe(true);
    } finally {
      await pipe.dispose();
    }
  });
});
