/**
 * The page ↔ worker protocol end to end, in Node: SdxsClient on one end of a MessageChannel, the worker host
 * on the other, model files fetched over (fake) HTTP from the golden folders, sessions on onnxruntime-node
 * standing in for onnxruntime-web. The images must be the pipeline's own, bit for bit.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPngText } from '@sdxs/image';
import { ControlNetPipeline, GeneratedImage } from '@sdxs/pipeline';
import { createNodeRuntime, LocalFolderSource } from '@sdxs/runtime-node';
import { exposeSdxsWorker, SdxsClient, SdxsWorkerError, WorkerImage, type LoadedInfo, type WorkerProgress } from '@sdxs/runtime-web';
import { resolveGoldenPath } from '../../../tools/golden/links.js';
import { materializeModelFolder, type MaterializedFolder } from '../../../tools/golden/materialize.js';
import { FakeServer } from './_fake-server.js';

const GOLDEN = fileURLToPath(new URL('../../../../shared/golden/', import.meta.url));

/** Node has no ImageData: a stand-in with the same fields. */
class FakeImageData {
  readonly colorSpace = 'srgb';
  constructor(
    readonly data: Uint8ClampedArray,
    readonly width: number,
    readonly height: number,
  ) {}
}

function addFolder(files: Record<string, Uint8Array>, dir: string, prefix: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) addFolder(files, path, `${prefix}${e.name}/`);
    else files[`${prefix}${e.name}`] = readFileSync(resolveGoldenPath(path));
  }
}

describe('SdxsClient ↔ worker host', () => {
  const server = (() => {
    const files: Record<string, Uint8Array> = {};
    addFolder(files, join(GOLDEN, 'pipeline-sdxs512-t2i', 'model'), '/sdxs/');
    addFolder(files, join(GOLDEN, 'controlnet-sdxs512'), '/sketch/');
    return new FakeServer(files);
  })();
  const channel = new MessageChannel();
  let client: SdxsClient;
  let info: LoadedInfo;
  const progress: WorkerProgress[] = [];
  let model: MaterializedFolder;
  let sketch: MaterializedFolder;
  let reference: ControlNetPipeline;

  beforeAll(async () => {
    Object.assign(globalThis, { ImageData: globalThis.ImageData ?? FakeImageData });
    exposeSdxsWorker(channel.port1, {
      fetch: server.fetch,
      createRuntime: async () => Object.assign(createNodeRuntime({ intraOpThreads: 2 }), { threads: 2 }),
      probe: async () => ({ webgpu: { available: false, shaderF16: false, reason: 'test' }, wasm: { simd: true, threads: true, crossOriginIsolated: true, cores: 2 } }),
    });
    client = new SdxsClient(channel.port2);
    channel.port1.start();
    channel.port2.start();
    info = await client.load({ model: `${server.origin}/sdxs/`, controlnet: `${server.origin}/sketch/` }, { onProgress: (e) => progress.push(e) });
    model = materializeModelFolder(join(GOLDEN, 'pipeline-sdxs512-t2i', 'model'));
    sketch = materializeModelFolder(join(GOLDEN, 'controlnet-sdxs512'));
    reference = await ControlNetPipeline.load(new LocalFolderSource(model.path), new LocalFolderSource(sketch.path), createNodeRuntime({ intraOpThreads: 2 }), { target: 'wasm' });
  });

  afterAll(async () => {
    await client?.dispose();
    channel.port1.close();
    channel.port2.close();
    await reference?.dispose();
    model?.cleanup();
    sketch?.cleanup();
  });

  it('loads over HTTP, says what it runs on, and reports downloads', () => {
    expect(info).toMatchObject({ backend: 'wasm', dtype: 'float32', threads: 2, controlnet: true, cached: false, defaultSize: { width: 128, height: 128 }, vaeScaleFactor: 8 });
    expect(info.notes.join(' ')).toMatch(/WebGPU is not available \(test\)/);
    expect(info.notes.join(' ')).toMatch(/Cache Storage is unavailable/);
    const downloads = progress.filter((p) => p.stage === 'download');
    // Loading reads safetensors headers only: the weights are downloaded when the first graph needs them.
    const weights = downloads.filter((p) => 'file' in p && p.file.endsWith('.safetensors'));
    expect(weights).toEqual([]);
    expect(downloads.length).toBeGreaterThan(0);
  });

  it('generates the image the pipeline makes, and transfers it as ImageData', async () => {
    const events: WorkerProgress[] = [];
    const got = await client.generate({ prompt: 'a photo of a cat', seed: 42 }, { onProgress: (e) => events.push(e) });
    const want = await reference.base.generate({ prompt: 'a photo of a cat', seed: 42 });
    expect(got.seed).toBe(42n);
    expect(got.backend).toBe('wasm');
    expect([got.imageData.width, got.imageData.height]).toEqual([128, 128]);
    expect(Buffer.from(got.imageData.data).equals(Buffer.from(want.images[0]!.data))).toBe(true);
    const stages = new Set(events.map((e) => e.stage));
    for (const s of ['download', 'build', 'session', 'encode', 'step']) expect(stages, s).toContain(s);
  });

  it("rebuilds the pipeline's GeneratedImage on the page: its parameters, infotext and PNG metadata survive the worker boundary", async () => {
    const request = { prompt: 'a photo of a cat', negativePrompt: 'blurry', seed: 7, width: 64, height: 64, steps: 2, guidanceScale: 2.5 };
    const got = await client.generate(request);
    const want = (await reference.base.generate(request)).images[0]!;
    expect(got).toBeInstanceOf(WorkerImage);
    expect(got).toBeInstanceOf(GeneratedImage);
    // The same bytes as the ImageData the page draws, not a copy.
    expect(got.data).toBe(got.imageData.data);
    expect(Buffer.from(got.data).equals(Buffer.from(want.data))).toBe(true);
    for (const k of ['scheduler', 'dtype', 'version'] as const) expect(got.parameters[k]).toBe(want.parameters[k]);
    expect(got.parameters).toMatchObject({ prompt: request.prompt, negativePrompt: 'blurry', seed: 7n, steps: 2, guidanceScale: 2.5, width: 64, height: 64, batchSize: 1, batchIndex: 1 });
    expect(got.infotext).toMatch(/^a photo of a cat\nNegative prompt: blurry\nSteps: 2, .*Seed: 7, .*Size: 64x64/);
    const text = readPngText(got.toPng());
    expect(text.parameters).toBe(got.infotext);
    expect(JSON.parse(text.sdxs ?? '{}')).toMatchObject({ prompt: request.prompt, seed: '7', steps: 2 });
    const blob = await got.toBlob();
    expect(readPngText(new Uint8Array(await blob.arrayBuffer())).parameters).toBe(got.infotext);
  });

  it('takes 64-bit seeds as decimal strings', async () => {
    const got = await client.generate({ prompt: 'x', seed: '18446744073709551615', width: 64, height: 64 });
    expect(got.seed).toBe(18446744073709551615n);
  });

  it('renders a sketch through the ControlNet, as the pipeline does', async () => {
    const data = new Uint8ClampedArray(128 * 128 * 4).fill(255);
    for (let i = 20; i < 108; i++) data.fill(0, (i * 128 + i) * 4, (i * 128 + i) * 4 + 3);
    const image = { width: 128, height: 128, data };
    const got = await client.generate({ prompt: 'a house', seed: 3, control: { image, mode: 'sketch', scale: 0.8 } });
    const want = await reference.generate({ prompt: 'a house', seed: 3, image, controlMode: 'sketch', controlScale: 0.8 });
    expect(Buffer.from(got.imageData.data).equals(Buffer.from(want.images[0]!.data))).toBe(true);
  });

  it('streams the newest sketch only (realtime)', async () => {
    const live = client.realtime({ prompt: 'a house', seed: 3, width: 64, height: 64, controlMode: 'sketch', controlScale: 0.8 });
    const pads = [0, 1, 2, 3].map((k) => ({ width: 64, height: 64, data: new Uint8ClampedArray(64 * 64 * 4).fill(255 - k * 40) }));
    for (const p of pads) live.push(p);
    const frames = [];
    let last: WorkerImage | undefined;
    for await (const f of live.images) {
      frames.push(f.frameId);
      last = f.image;
      if (f.frameId === 4) break;
    }
    // The first push renders at once; the two in between are replaced by the last before their turn.
    expect(frames.at(-1)).toBe(4);
    // Frames are downloadable too: each image carries its parameters.
    expect(last).toBeInstanceOf(WorkerImage);
    expect(last?.parameters).toMatchObject({ prompt: 'a house', seed: 3n, width: 64, height: 64 });
    expect(readPngText(last!.toPng()).parameters).toMatch(/^a house\n/);
    expect(live.stats.rendered).toBeLessThanOrEqual(2);
  });

  it('explains refused requests and missing ControlNets with a kind', async () => {
    const bad = await client.generate({ prompt: 'x', width: 100000 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(SdxsWorkerError);
    expect(bad).toMatchObject({ kind: 'bad-request', message: expect.stringMatching(/"width"/) });
    const noSeed = await client.generate({ prompt: 'x', seed: '-1' }).catch((e: unknown) => e);
    expect(noSeed).toMatchObject({ kind: 'bad-request' });
  });

  it('reports a model folder that fails to load as model-load, and a backend that is missing as such', async () => {
    const other = new MessageChannel();
    exposeSdxsWorker(other.port1, {
      fetch: server.fetch,
      createRuntime: async () => Object.assign(createNodeRuntime(), { threads: 1 }),
      probe: async () => ({ webgpu: { available: false, shaderF16: false, reason: 'no adapter' }, wasm: { simd: true, threads: false, crossOriginIsolated: false, cores: 1 } }),
    });
    const c = new SdxsClient(other.port2);
    other.port1.start();
    other.port2.start();
    try {
      await expect(c.load({ model: `${server.origin}/nowhere/` })).rejects.toMatchObject({ kind: 'model-load', message: expect.stringMatching(/nowhere\/?: not a diffusers model folder \(it has no model_index\.json\)/) });
      await expect(c.load({ model: `${server.origin}/sdxs/`, backend: 'webgpu' })).rejects.toMatchObject({ kind: 'webgpu-unavailable', message: expect.stringMatching(/no adapter/) });
      await expect(c.generate({ prompt: 'x' })).rejects.toMatchObject({ kind: 'not-loaded' });
      const plain = await c.load({ model: `${server.origin}/sdxs/`, controlnet: undefined });
      expect(plain.controlnet).toBe(false);
      const image = { width: 8, height: 8, data: new Uint8ClampedArray(256) };
      await expect(c.generate({ prompt: 'x', control: { image } })).rejects.toMatchObject({ kind: 'not-loaded', message: expect.stringMatching(/without a ControlNet/) });
    } finally {
      other.port1.close();
      other.port2.close();
    }
  });
});
