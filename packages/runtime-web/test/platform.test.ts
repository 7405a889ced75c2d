/**
 * The browser platform of fromPretrained, in Node: a model folder by URL over (fake) HTTP, the backend chosen from a
 * probe report, onnxruntime-node standing in for onnxruntime-web (as in worker.test.ts). The images must be the
 * pipeline's own, bit for bit.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeRuntime, LocalFolderSource, StableDiffusionPipeline as NodePipeline } from '@sdxs/runtime-node';
import { BackendUnavailableError, createWebPlatform, modelNameOf, StableDiffusionPipeline, UrlModelSource, type BackendReport } from '@sdxs/runtime-web';
import { resolveGoldenPath } from '../../../tools/golden/links.js';
import { materializeModelFolder, type MaterializedFolder } from '../../../tools/golden/materialize.js';
import { FakeServer } from './_fake-server.js';

const GOLDEN = fileURLToPath(new URL('../../../../shared/golden/', import.meta.url));

function addFolder(files: Record<string, Uint8Array>, dir: string, prefix: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) addFolder(files, path, `${prefix}${e.name}/`);
    else files[`${prefix}${e.name}`] = readFileSync(resolveGoldenPath(path));
  }
}

const noWebGpu: BackendReport = { webgpu: { available: false, shaderF16: false, reason: 'no adapter (test)' }, wasm: { simd: true, threads: true, crossOriginIsolated: true, cores: 2 } };

describe('createWebPlatform', () => {
  const files: Record<string, Uint8Array> = {};
  addFolder(files, join(GOLDEN, 'pipeline-sdxs512-t2i', 'model'), '/sdxs/');
  const server = new FakeServer(files);
  const chosen: string[] = [];
  const platform = createWebPlatform({
    source: { fetch: server.fetch },
    probe: async () => noWebGpu,
    createRuntime: async (choice) => {
      chosen.push(choice.backend);
      return createNodeRuntime({ intraOpThreads: 2 });
    },
  });
  let model: MaterializedFolder;
  beforeAll(() => {
    model = materializeModelFolder(join(GOLDEN, 'pipeline-sdxs512-t2i', 'model'));
  });
  afterAll(() => model?.cleanup());

  it("loads a folder by URL in one call; 'auto' without WebGPU runs on WebAssembly and says why", async () => {
    const warnings: string[] = [];
    const pipe = await StableDiffusionPipeline.fromPretrained(`${server.origin}/sdxs/`, { platform, onWarning: (m) => warnings.push(m), cache: false });
    const local = await NodePipeline.load(new LocalFolderSource(model.path), createNodeRuntime({ intraOpThreads: 2 }));
    try {
      expect(chosen.at(-1)).toBe('wasm');
      expect(warnings.some((w) => /WebGPU is not available \(no adapter \(test\)\): running on the CPU with WebAssembly/.test(w))).toBe(true);
      expect(pipe.components.source).toBeInstanceOf(UrlModelSource);
      expect(pipe.name).toBe('sdxs'); // the folder, not the server's address
      const request = { prompt: 'a cat', seed: 3, width: 64, height: 64 };
      const [a, b] = [await pipe.generate(request), await local.generate(request)];
      expect(Buffer.from(a.images[0]!.data).equals(Buffer.from(b.images[0]!.data))).toBe(true);
      expect(a.images[0]!.parameters.model).toBe('sdxs');
    } finally {
      await pipe.dispose();
      await local.dispose();
    }
  });

  it('a repo id becomes its Hugging Face resolve URL; the revision and endpoint are honoured', async () => {
    const hub = createWebPlatform({ endpoint: 'https://hub.test/', source: { fetch: server.fetch } });
    const m = await hub.resolveModel('IDKiro/sdxs-512-dreamshaper', { revision: 'v1.0' });
    expect((m.source as UrlModelSource).base).toBe('https://hub.test/IDKiro/sdxs-512-dreamshaper/resolve/v1.0/');
    expect(m.name).toBe('IDKiro/sdxs-512-dreamshaper');
  });

  it('names models for metadata without the host', () => {
    expect(modelNameOf('https://huggingface.co/IDKiro/sdxs-512-dreamshaper/resolve/main/')).toBe('IDKiro/sdxs-512-dreamshaper');
    expect(modelNameOf('http://127.0.0.1:5173/models/micro/')).toBe('micro');
    expect(modelNameOf('https://cdn.test/a%20b')).toBe('a b');
  });

  it('refuses what a browser cannot do, each in one clear message', async () => {
    await expect(platform.resolveModel(undefined, {})).rejects.toThrow(/in a browser name the model/);
    await expect(StableDiffusionPipeline.fromPretrained(`${server.origin}/sdxs/`, { platform, device: 'cuda' })).rejects.toThrow(/device 'cuda' is Node's; in a browser use 'webgpu', 'wasm'/);
    await expect(StableDiffusionPipeline.fromPretrained(`${server.origin}/sdxs/`, { platform, device: 'webgpu' })).rejects.toBeInstanceOf(BackendUnavailableError);
    // Not the environment's platform: in Node the registered one is runtime-node's.
    expect(platform.available()).toBe(false);
  });
});
