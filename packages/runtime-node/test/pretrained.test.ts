// One-call loading in Node: StableDiffusionPipeline.fromPretrained from @sdxs/runtime-node, on the embedded models
// (offline), a folder, and the devices this machine has or lacks.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng } from '@sdxs/image';
import { ControlNetPipeline, embeddedModels, IsolatedNodeRuntime, probeProvider, ProviderUnavailableError, StableDiffusionPipeline } from '@sdxs/runtime-node';

let cacheDir: string;
let savedCache: string | undefined;
beforeAll(() => {
  cacheDir = mkdtempSync(join(tmpdir(), 'sdxs-pretrained-'));
  savedCache = process.env.SDXS_CACHE;
  process.env.SDXS_CACHE = cacheDir;
});
afterAll(() => {
  if (savedCache === undefined) delete process.env.SDXS_CACHE;
  else process.env.SDXS_CACHE = savedCache;
  rmSync(cacheDir, { recursive: true, force: true });
});

describe('StableDiffusionPipeline.fromPretrained (Node)', () => {
  it('with no model: the embedded sdxs-micro, offline, at its own steps and guidance, graphs cached on disk', async () => {
    const pipe = await StableDiffusionPipeline.fromPretrained(undefined, { device: 'cpu' });
    try {
      const m = embeddedModels().default;
      expect(pipe.name).toBe(m.name);
      expect(pipe.defaults).toEqual({ steps: m.steps, guidanceScale: m.guidanceScale });
      expect(pipe.settings.target).toBe('cpu');
      const { images } = await pipe.generate({ prompt: m.prompt ?? 'a red circle on a blue background', seed: 1 });
      const image = images[0]!;
      expect([image.width, image.height]).toEqual([64, 64]);
      expect(new Set(image.data).size).toBeGreaterThan(8);
      expect(image.parameters).toMatchObject({ model: m.name, steps: m.steps, guidanceScale: m.guidanceScale, seed: 1n, executionProvider: 'cpu' });
      expect(decodePng(image.toPng()).text.parameters).toContain(`Steps: ${m.steps}, Sampler: `);
      expect(readdirSync(join(cacheDir, 'graphs')).length).toBeGreaterThan(0);
    } finally {
      await pipe.dispose();
    }
  });

  it('a folder path and an embedded model’s name load the same model; cache: false writes no graph', async () => {
    const m = embeddedModels().default;
    const before = readdirSync(join(cacheDir, 'graphs')).length;
    const byPath = await StableDiffusionPipeline.fromPretrained(m.path, { device: 'cpu', cache: false });
    const byName = await StableDiffusionPipeline.fromPretrained(m.name, { device: 'cpu', cache: false });
    try {
      expect(byPath.name).toBe('sdxs-micro');
      // A folder says nothing of its steps: the model's defaults come only with its embedded name.
      expect(byPath.defaults).toEqual({});
      const request = { prompt: 'a green square on a white background', seed: 5, steps: 2, guidanceScale: 0 };
      const [a, b] = [await byPath.generate(request), await byName.generate(request)];
      expect(Buffer.from(a.images[0]!.data).equals(Buffer.from(b.images[0]!.data))).toBe(true);
      expect(readdirSync(join(cacheDir, 'graphs')).length).toBe(before);
    } finally {
      await byPath.dispose();
      await byName.dispose();
    }
  });

  it('ControlNetPipeline.fromPretrained with no model: the embedded one-step model and its sketch ControlNet at its scale', async () => {
    const pipe = await ControlNetPipeline.fromPretrained(undefined, { device: 'cpu', cache: false });
    try {
      const sketch = embeddedModels().sketch!;
      expect(pipe.base.name).toBe(sketch.name);
      expect(pipe.base.defaults.controlScale).toBe(sketch.controlScale);
      const pad = { width: 64, height: 64, data: new Uint8ClampedArray(64 * 64 * 4).fill(255) };
      for (let y = 20; y < 44; y++) for (let x = 20; x < 44; x++) pad.data.fill(0, (y * 64 + x) * 4, (y * 64 + x) * 4 + 3);
      const { images, fused } = await pipe.generate({ prompt: 'a red square on a blue background', image: pad, controlMode: 'sketch', seed: 2 });
      expect(fused).toBe(true);
      expect(images[0]!.parameters.model).toBe(sketch.name);
    } finally {
      await pipe.dispose();
    }
  });

  it('refuses a device Node does not have, and an unknown one, naming the choices', async () => {
    await expect(StableDiffusionPipeline.fromPretrained(undefined, { device: 'wasm' })).rejects.toThrow(/device 'wasm' is the browser's CPU backend; in Node use 'cpu'/);
    await expect(StableDiffusionPipeline.fromPretrained(undefined, { device: 'tpu' as never })).rejects.toThrow(/"device" must be one of auto, cpu, wasm, webgpu, cuda/);
    await expect(StableDiffusionPipeline.fromPretrained(undefined, { dtype: 'int8' as never })).rejects.toThrow(/"dtype" must be float32 or float16/);
  });

  it('cuda named explicitly runs there or fails with ProviderUnavailableError — never silently on the CPU', async () => {
    const cuda = await probeProvider('cuda');
    const load = StableDiffusionPipeline.fromPretrained(undefined, { device: 'cuda', cache: false });
    if (cuda.available) {
      const pipe = await load;
      expect(pipe.settings.target).toBe('cuda');
      await pipe.dispose();
    } else {
      await expect(load).rejects.toBeInstanceOf(ProviderUnavailableError);
    }
  });

  it("'auto' takes a GPU that works, else the CPU with one warning saying why", async () => {
    const gpu = (await probeProvider('cuda')).available ? 'cuda' : (await probeProvider('webgpu')).available ? 'webgpu' : undefined;
    const warnings: string[] = [];
    const pipe = await StableDiffusionPipeline.fromPretrained(undefined, { cache: false, onWarning: (m) => warnings.push(m) });
    try {
      expect(pipe.settings.target).toBe(gpu ?? 'cpu');
      expect(pipe.runtime.provider).toBe(gpu ?? 'cpu');
      if (gpu === undefined) {
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(/^device 'auto': no GPU execution provider works here, running on the CPU \(.*cuda.*webgpu/s);
      }
    } finally {
      await pipe.dispose();
    }
  });

  it('isolate: true runs the sessions in a worker process, with the same pixels', async () => {
    const request = { prompt: 'a blue circle on a red background', seed: 4, steps: 3 };
    const isolated = await StableDiffusionPipeline.fromPretrained(undefined, { device: 'cpu', isolate: true, cache: false });
    const local = await StableDiffusionPipeline.fromPretrained(undefined, { device: 'cpu', cache: false });
    try {
      expect(isolated.runtime).toBeInstanceOf(IsolatedNodeRuntime);
      expect(isolated.runtime.name).toBe('onnxruntime-node/cpu (isolated)');
      const [a, b] = [await isolated.generate(request), await local.generate(request)];
      expect(Buffer.from(a.images[0]!.data).equals(Buffer.from(b.images[0]!.data))).toBe(true);
    } finally {
      await isolated.dispose();
      await local.dispose();
      (isolated.runtime as IsolatedNodeRuntime).close();
    }
  });

  it('a model that is neither a folder, an embedded name nor a repo id is one clear error', async () => {
    await expect(StableDiffusionPipeline.fromPretrained('no/such/model/here', { device: 'cpu' })).rejects.toThrow(/no\/such\/model\/here/);
  });
});
