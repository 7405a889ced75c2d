/**
 * A single-file checkpoint by URL through the browser platform, in Node over fake HTTP: the embedded sdxs-micro
 * (real weights) written as one LDM-layout file, loaded with a config folder's URL to the folder's own image, and
 * its tokenizer taken from the hub's resolve URLs when the config folder has none.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNodeRuntime, diffusersToLdm, embeddedModel, LocalFolderSource, StableDiffusionPipeline as NodePipeline, virtualSafetensors } from '@sdxs/runtime-node';
import { createWebPlatform, isSingleFileUrl, openSingleFileUrl, StableDiffusionPipeline, type BackendReport } from '@sdxs/runtime-web';
import { FakeServer } from './_fake-server.js';

function addFolder(files: Record<string, Uint8Array>, dir: string, prefix: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) addFolder(files, path, `${prefix}${e.name}/`);
    else files[`${prefix}${e.name}`] = readFileSync(path);
  }
}

const wasmOnly: BackendReport = { webgpu: { available: false, shaderF16: false, reason: 'test' }, wasm: { simd: true, threads: true, crossOriginIsolated: true, cores: 2 } };

describe('the web platform and single-file checkpoints', () => {
  it('recognises checkpoint URLs', () => {
    expect(isSingleFileUrl('https://x.test/m/dreamshaper_8.safetensors?download=true')).toBe(true);
    expect(isSingleFileUrl('https://x.test/m/sdxs/')).toBe(false);
  });

  it("loads a checkpoint URL with a config folder to the folder's image; the tokenizer from the hub when the folder has none", async () => {
    const micro = embeddedModel('sdxs-micro')!;
    const { tensors, close } = await diffusersToLdm(new LocalFolderSource(micro.path));
    const planned = virtualSafetensors('micro.safetensors', tensors);
    const checkpoint = await planned.read(0, planned.size);
    await close();
    const files: Record<string, Uint8Array> = { '/ckpt/micro.safetensors': checkpoint };
    addFolder(files, micro.path, '/micro/');
    // A config folder without a tokenizer: the tokenizer then comes from the hub.
    for (const [k, v] of Object.entries(files)) if (k.startsWith('/micro/') && !k.startsWith('/micro/tokenizer/')) files[k.replace('/micro/', '/micro-no-tokenizer/')] = v;
    addFolder(files, join(micro.path, 'tokenizer'), '/openai/clip-vit-large-patch14/resolve/main/');
    const server = new FakeServer(files);
    const platform = createWebPlatform({ endpoint: server.origin, source: { fetch: server.fetch }, probe: async () => wasmOnly, createRuntime: async () => createNodeRuntime({ intraOpThreads: 2 }) });
    const request = { prompt: 'a red circle on a blue background', seed: 2, steps: 2, guidanceScale: 1 };
    const local = await NodePipeline.load(new LocalFolderSource(micro.path), createNodeRuntime({ intraOpThreads: 2 }));
    const withConfig = await StableDiffusionPipeline.fromPretrained(`${server.origin}/ckpt/micro.safetensors`, { platform, config: `${server.origin}/micro/`, cache: false, onWarning: () => {} });
    const fromHub = await openSingleFileUrl(`${server.origin}/ckpt/micro.safetensors`, { endpoint: server.origin, fetch: server.fetch, config: `${server.origin}/micro-no-tokenizer/` });
    try {
      expect(withConfig.name).toBe('micro');
      const want = Buffer.from((await local.generate(request)).images[0]!.data);
      expect(Buffer.from((await withConfig.generate(request)).images[0]!.data).equals(want)).toBe(true);
      expect(await fromHub.readText('tokenizer/vocab.json')).toBe(readFileSync(join(micro.path, 'tokenizer/vocab.json'), 'utf8'));
      expect(server.count((r) => r.path === '/openai/clip-vit-large-patch14/resolve/main/vocab.json')).toBeGreaterThan(0);
    } finally {
      await Promise.all([local.dispose(), withConfig.dispose()]);
    }
  });
});
