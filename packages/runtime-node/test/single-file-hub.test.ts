// A single-file checkpoint with its config and tokenizer from the Hugging Face hub (a local fake of it): --config as a
// repo id fetches the configs, scheduler and tokenizer but no weights; a config without a tokenizer takes the family's
// tokenizer repo, which a later offline run finds in the cache.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeRuntime, diffusersToLdm, embeddedModel, LocalFolderSource, openSingleFile, StableDiffusionPipeline, virtualSafetensors } from '../src/index.js';
import { FakeHub, type FakeFile } from './hub-fake.js';
import { hubOptions, tempDir } from './hub-fixtures.js';

function folderFiles(root: string, keep: (path: string) => boolean = () => true): FakeFile[] {
  const out: FakeFile[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      const rel = relative(root, path);
      if (e.isDirectory()) walk(path);
      else if (keep(rel)) out.push({ path: rel, content: readFileSync(path), lfs: rel.endsWith('.safetensors') });
    }
  };
  walk(root);
  return out;
}

describe('single-file checkpoints and the hub', () => {
  const micro = embeddedModel('sdxs-micro')!;
  let hub: FakeHub;
  let work: { dir: string; cleanup: () => Promise<void> };
  let file: string;
  beforeAll(async () => {
    work = await tempDir();
    const { tensors, close } = await diffusersToLdm(new LocalFolderSource(micro.path));
    const planned = virtualSafetensors('micro.safetensors', tensors);
    file = join(work.dir, 'micro.safetensors');
    writeFileSync(file, await planned.read(0, planned.size));
    await close();
    hub = await FakeHub.start([
      { id: 'sdxs/micro', files: folderFiles(micro.path) },
      { id: 'sdxs/micro-configs', files: folderFiles(micro.path, (p) => !p.startsWith('tokenizer/') && !p.endsWith('.safetensors')) },
      { id: 'openai/clip-vit-large-patch14', files: folderFiles(join(micro.path, 'tokenizer')) },
    ]);
  });
  afterAll(async () => {
    await hub?.close();
    await work?.cleanup();
  });

  it("--config as a repo id: its configs and tokenizer, none of its weights; the folder's image", async () => {
    const options = hubOptions(hub.endpoint, join(work.dir, 'cache-1'));
    const source = await openSingleFile(file, { ...options, config: 'sdxs/micro' });
    expect(source.derived).toEqual([]);
    const fetched = hub.requests.filter((r) => r.method === 'GET' && r.path.includes('/sdxs/micro/resolve/')).map((r) => r.path);
    expect(fetched.some((p) => p.endsWith('unet/config.json'))).toBe(true);
    expect(fetched.some((p) => p.endsWith('tokenizer/vocab.json'))).toBe(true);
    expect(fetched.filter((p) => p.endsWith('.safetensors'))).toEqual([]);
    const runtime = createNodeRuntime({ intraOpThreads: 2 });
    const [a, b] = [await StableDiffusionPipeline.load(source, runtime), await StableDiffusionPipeline.load(new LocalFolderSource(micro.path), runtime)];
    try {
      const request = { prompt: 'a red circle on a blue background', seed: 9, steps: 2, guidanceScale: 1 };
      expect(Buffer.from((await a.generate(request)).images[0]!.data).equals(Buffer.from((await b.generate(request)).images[0]!.data))).toBe(true);
    } finally {
      await Promise.all([a.dispose(), b.dispose()]);
    }
  });

  it("a config without a tokenizer takes openai/clip-vit-large-patch14's, then offline from the cache", async () => {
    const options = hubOptions(hub.endpoint, join(work.dir, 'cache-2'));
    const online = await openSingleFile(file, { ...options, config: 'sdxs/micro-configs' });
    expect(await online.readText('tokenizer/vocab.json')).toBe(readFileSync(join(micro.path, 'tokenizer/vocab.json'), 'utf8'));
    const before = hub.requests.length;
    const offline = await openSingleFile(file, { ...options, offline: true, config: 'sdxs/micro-configs' });
    expect(await offline.readText('tokenizer/merges.txt')).toBe(readFileSync(join(micro.path, 'tokenizer/merges.txt'), 'utf8'));
    expect(hub.requests.length).toBe(before);
  });
});
