import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join, resolve } from 'node:path';
import { decodeGraph, MemoryGraphCache, StableDiffusionPipeline, VAE_COMPONENTS } from '@sdxs/pipeline';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { castTensor, Tensor, type Runtime, type SessionOptions } from '@sdxs/tensor';
import { openSafetensorsFile, writeSafetensorsFile } from '@sdxs/tensor/node';
import type { MaterializedFolder } from '../../../tools/golden/materialize.js';
import { goldenModel, goldenOutput, goldenSource, maxAbsDiff, withFiles } from './_helpers.js';

/** Write an `fp16` variant beside a component's weights (diffusers' `variant="fp16"` naming), every tensor cast. */
async function addFp16Variant(folder: string, file: string): Promise<void> {
  const f = await openSafetensorsFile(join(folder, file));
  try {
    const tensors = new Map<string, Tensor>();
    for (const name of f.names()) {
      const t = await f.read(name);
      tensors.set(name, t.dtype === 'float32' ? castTensor(t, 'float16') : t);
    }
    await writeSafetensorsFile(join(folder, file.replace(/\.safetensors$/, '.fp16.safetensors')), tensors);
  } finally {
    await f.close();
  }
}

/** A runtime that records what each session was created with; `files` says whether it claims file-backed external data. */
function recordingRuntime(files: boolean): Runtime & { readonly sessions: { label: string; externalData: NonNullable<SessionOptions['externalData']> }[] } {
  const inner = createNodeRuntime({ intraOpThreads: 2 });
  const sessions: { label: string; externalData: NonNullable<SessionOptions['externalData']> }[] = [];
  return {
    name: `recording(${inner.name})`,
    ...(files ? { capabilities: { externalDataFiles: true } } : {}),
    sessions,
    createSession(model, options) {
      sessions.push({ label: options?.label ?? '?', externalData: options?.externalData ?? [] });
      return inner.createSession(model, options);
    },
  };
}

// The golden case's request (pipeline-sdxs512-t2i/case.json: 128×128, one step), so both paths meet diffusers' images.
const REQUEST = { prompt: ['a photo of a cat', 'Astronaut in a jungle, cold color palette, muted colors, detailed, 8k'], seed: 0, float: true } as const;

describe('weights read from the model files (file-backed external data)', () => {
  let model: MaterializedFolder;
  let elsewhere: MaterializedFolder;
  beforeAll(() => {
    model = goldenModel();
    elsewhere = goldenModel();
  });
  afterAll(() => {
    model?.cleanup();
    elsewhere?.cleanup();
  });

  it('a local float32 folder on a file-reading runtime gives the runtime file paths; both paths give the same pixels, the golden ones', async () => {
    const onFiles = recordingRuntime(true);
    const inMemory = recordingRuntime(false);
    const a = await StableDiffusionPipeline.load(goldenSource(model), onFiles);
    const b = await StableDiffusionPipeline.load(goldenSource(model), inMemory);
    try {
      const ra = await a.generate(REQUEST);
      const rb = await b.generate(REQUEST);
      expect(ra.fused).toBe(true);

      expect(onFiles.sessions.map((s) => s.label).sort()).toEqual(['one-step', 'text-encoder']);
      const locations = onFiles.sessions.flatMap((s) => s.externalData.map((e) => e.path)).sort();
      // Model-relative locations, one per weight file; the absolute path is only the entry's data.
      expect(locations).toEqual(['text_encoder/model.safetensors', 'unet/diffusion_pytorch_model.safetensors', 'vae/diffusion_pytorch_model.safetensors']);
      for (const e of onFiles.sessions.flatMap((s) => s.externalData)) expect(e.data).toBe(resolve(model.path, e.path));
      expect(a.graphStats).toMatchObject({ sessions: 2, fromFiles: 2 });

      for (const s of inMemory.sessions) for (const e of s.externalData) expect(e.data).toBeInstanceOf(Uint8Array);
      expect(b.graphStats).toMatchObject({ sessions: 2, fromFiles: 0 });

      // The same graph, only the weights' addresses differ: bit-identical results, within the golden tolerance.
      expect(ra.float!.data).toEqual(rb.float!.data);
      expect(maxAbsDiff(ra.float!, await goldenOutput('images_seed0'))).toBeLessThanOrEqual(2 / 255);
      ra.images.forEach((img, i) => expect(img.data).toEqual(rb.images[i]!.data));
      expect((await a.encodePrompt(REQUEST.prompt)).data).toEqual((await b.encodePrompt(REQUEST.prompt)).data);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });

  it('cached file-backed graphs hold no absolute path and serve the same model in another folder', async () => {
    const cache = new MemoryGraphCache();
    const put: Uint8Array[] = [];
    const spy = { get: (k: string) => cache.get(k), put: (k: string, v: Uint8Array) => (put.push(v), cache.put(k, v)) };
    const first = await StableDiffusionPipeline.load(goldenSource(model), recordingRuntime(true), { cache: spy });
    const runtime = recordingRuntime(true);
    const second = await StableDiffusionPipeline.load(goldenSource(elsewhere), runtime, { cache: spy });
    try {
      const r1 = await first.generate(REQUEST);
      expect(put).toHaveLength(2);
      const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');
      for (const bytes of put) {
        expect(text(bytes)).not.toContain(model.path);
        expect(text(bytes)).toMatch(/(unet|text_encoder)\/[a-z_]+\.safetensors/);
      }
      const r2 = await second.generate(REQUEST);
      expect(second.graphStats).toMatchObject({ built: 0, cacheHits: 2, fromFiles: 2 });
      for (const e of runtime.sessions.flatMap((s) => s.externalData)) expect(e.data).toBe(resolve(elsewhere.path, e.path));
      expect(r2.float!.data).toEqual(r1.float!.data);
    } finally {
      await first.dispose();
      await second.dispose();
    }
  });

  it('keeps in-memory blobs when weights need converting (float16 graph, float32 files) or the source has no local paths', async () => {
    const runtime = recordingRuntime(true);
    const f16 = await StableDiffusionPipeline.load(goldenSource(model), runtime, { dtype: 'float16' });
    try {
      const shape = { batch: 1, latentHeight: 8, latentWidth: 8 };
      const latents = new Tensor('float32', [1, 4, 8, 8], new Float32Array(256).fill(0.1));
      const out = await f16.runGraph('decode', shape, () => decodeGraph(f16.components.vae, shape, f16.settings), VAE_COMPONENTS, (s) => s.run({ latents }, ['rgba']));
      expect(out.rgba?.shape).toEqual([1, 64, 64, 4]);
      expect(runtime.sessions).toHaveLength(1);
      expect(runtime.sessions[0]!.externalData.map((e) => [e.path, e.data instanceof Uint8Array])).toEqual([['vae.weights', true]]);
    } finally {
      await f16.dispose();
    }

    const remote = recordingRuntime(true);
    // withFiles wraps the folder in a source without localPath, as a URL source is.
    const pipe = await StableDiffusionPipeline.load(withFiles(goldenSource(model), {}), remote);
    try {
      await pipe.encodePrompt('a cat');
      expect(remote.sessions[0]!.externalData.map((e) => [e.path, e.data instanceof Uint8Array])).toEqual([['text_encoder.weights', true]]);
      expect(pipe.graphStats.fromFiles).toBe(0);
    } finally {
      await pipe.dispose();
    }
  });

  it('reads an fp16 variant from its files for a float16 graph; the float32 text encoder converts it in memory', async () => {
    const folder = goldenModel();
    const weights = ['unet/diffusion_pytorch_model.safetensors', 'vae/diffusion_pytorch_model.safetensors', 'text_encoder/model.safetensors'];
    for (const file of weights) await addFp16Variant(folder.path, file);
    const onFiles = recordingRuntime(true);
    const inMemory = recordingRuntime(false);
    const options = { dtype: 'float16', variant: 'fp16' } as const;
    const a = await StableDiffusionPipeline.load(goldenSource(folder), onFiles, options);
    const b = await StableDiffusionPipeline.load(goldenSource(folder), inMemory, options);
    try {
      const ra = await a.generate(REQUEST);
      const rb = await b.generate(REQUEST);
      const summary = (rt: typeof onFiles) => rt.sessions.map((s) => [s.label, s.externalData.map((e) => [e.path, typeof e.data === 'string'])]).sort();
      expect(summary(onFiles)).toEqual([
        ['one-step', [['unet/diffusion_pytorch_model.fp16.safetensors', true], ['vae/diffusion_pytorch_model.fp16.safetensors', true]]],
        ['text-encoder', [['text_encoder.weights', false]]],
      ]);
      expect(a.graphStats).toMatchObject({ sessions: 2, fromFiles: 1 });
      expect(ra.float!.data).toEqual(rb.float!.data);
    } finally {
      await a.dispose();
      await b.dispose();
      folder.cleanup();
    }
  });
});
