import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryGraphCache, PromptEmbeddingCache, StableDiffusionPipeline, type GraphCache, type ProgressEvent } from '@sdxs/pipeline';
import type { MaterializedFolder } from '../../../tools/golden/materialize.js';
import { countingRuntime, goldenModel, goldenSource } from './_helpers.js';

describe('prompt-embedding cache', () => {
  let model: MaterializedFolder;
  beforeAll(() => {
    model = goldenModel();
  });
  afterAll(() => model?.cleanup());

  it('does not rerun the text encoder for a prompt it has seen, and encodes only new prompts', async () => {
    const runtime = countingRuntime();
    const pipe = await StableDiffusionPipeline.load(goldenSource(model), runtime);
    try {
      const first = await pipe.generate({ prompt: 'a photo of a cat', seed: 1 });
      expect(runtime.runs.get('text-encoder')).toBe(1);
      const again = await pipe.generate({ prompt: 'a photo of a cat', seed: 2 });
      expect(runtime.runs.get('text-encoder')).toBe(1);
      expect(first.timings.encodeMs).toBeGreaterThan(0);
      // A new seed changes the image, not the embeddings.
      expect(Buffer.compare(Buffer.from(first.images[0]!.data), Buffer.from(again.images[0]!.data))).not.toBe(0);
      // Tokenizer normalization makes these the same ids: still cached. The new prompt alone is encoded.
      await pipe.generate({ prompt: ['A photo of  a cat', 'a photo of a dog', 'a photo of a dog'], seed: 3 });
      expect(runtime.runs.get('text-encoder')).toBe(2);
      expect(runtime.textBatches).toEqual([1, 1]);
      // The one-step graph for each batch size is built once; the text encoder graph once.
      await pipe.generate({ prompt: ['x', 'y', 'z'], seed: 4 });
      expect(runtime.created.filter((l) => l === 'one-step')).toHaveLength(2);
      expect(runtime.created.filter((l) => l === 'text-encoder')).toHaveLength(1);
    } finally {
      await pipe.dispose();
    }
  });

  it('is an LRU of bounded size, shareable between pipelines', async () => {
    const cache = new PromptEmbeddingCache(2);
    cache.set('a', new Float32Array(1));
    cache.set('b', new Float32Array(1));
    cache.get('a');
    cache.set('c', new Float32Array(1));
    expect([cache.get('a') !== undefined, cache.get('b') !== undefined, cache.get('c') !== undefined]).toEqual([true, false, true]);
    expect(() => new PromptEmbeddingCache(-1)).toThrow(/capacity/);

    const shared = new PromptEmbeddingCache();
    const runtime = countingRuntime();
    const a = await StableDiffusionPipeline.load(goldenSource(model), runtime, { promptCache: shared });
    const b = await StableDiffusionPipeline.load(goldenSource(model), runtime, { promptCache: shared });
    try {
      await a.encodePrompt('a shared prompt');
      await b.encodePrompt('a shared prompt');
      expect(runtime.runs.get('text-encoder')).toBe(1);
      expect(shared.size).toBe(1);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
});

describe('graph cache', () => {
  let model: MaterializedFolder;
  beforeAll(() => {
    model = goldenModel();
  });
  afterAll(() => model?.cleanup());

  it('a second load with the same cache builds nothing and gives the same pixels', async () => {
    const cache = new MemoryGraphCache();
    const events: ProgressEvent[] = [];
    const request = { prompt: ['a photo of a cat', 'a red car'], seed: 7, float: true } as const;
    const first = await StableDiffusionPipeline.load(goldenSource(model), countingRuntime(), { cache, onProgress: (e) => events.push(e) });
    const a = await first.generate(request);
    expect(first.graphStats).toMatchObject({ built: 2, cacheHits: 0, sessions: 2 });
    await first.dispose();
    expect(cache.size).toBe(2);
    expect(events.filter((e) => e.stage === 'build' && e.ms !== undefined).map((e) => e.stage === 'build' && e.cached)).toEqual([false, false]);
    expect(events.some((e) => e.stage === 'load' && e.component === 'unet')).toBe(true);
    expect(events.some((e) => e.stage === 'step' && e.steps === 1)).toBe(true);

    const second = await StableDiffusionPipeline.load(goldenSource(model), countingRuntime(), { cache });
    try {
      const b = await second.generate(request);
      expect(second.graphStats).toMatchObject({ built: 0, cacheHits: 2, sessions: 2 });
      expect(Array.from(b.float!.data)).toEqual(Array.from(a.float!.data));
      expect(b.images.map((i) => Array.from(i.data))).toEqual(a.images.map((i) => Array.from(i.data)));
    } finally {
      await second.dispose();
    }
  });

  it('rebuilds over a damaged entry; keys differ per image size', async () => {
    const inner = new MemoryGraphCache();
    const keys: string[] = [];
    const damaging: GraphCache = {
      get: async (k) => ((await inner.get(k)) ? new Uint8Array([1, 2, 3]) : undefined),
      put: async (k, v) => {
        keys.push(k);
        await inner.put(k, v);
      },
    };
    const pipe = await StableDiffusionPipeline.load(goldenSource(model), countingRuntime(), { cache: damaging });
    try {
      await pipe.generate({ prompt: 'a cat', seed: 0, width: 64, height: 64 });
      await pipe.generate({ prompt: 'a cat', seed: 0, width: 64, height: 96 });
      expect(pipe.graphStats.built).toBe(3);
    } finally {
      await pipe.dispose();
    }
    expect(new Set(keys).size).toBe(3);
    expect(keys.every((k) => /^(one-step|text-encoder)-[0-9a-f]{64}$/.test(k))).toBe(true);
    // A fresh pipeline on the damaged cache: every entry decodes as garbage, so everything is rebuilt.
    const again = await StableDiffusionPipeline.load(goldenSource(model), countingRuntime(), { cache: damaging });
    try {
      await again.generate({ prompt: 'a cat', seed: 0, width: 64, height: 64 });
      expect(again.graphStats).toMatchObject({ built: 2, cacheHits: 0 });
    } finally {
      await again.dispose();
    }
  });

  it('keeps at most maxSessions sessions, releasing the least recently used (never one in use)', async () => {
    const runtime = countingRuntime();
    const pipe = await StableDiffusionPipeline.load(goldenSource(model), runtime, { maxSessions: 2 });
    try {
      const small = { prompt: 'a cat', seed: 0, width: 64, height: 64 } as const;
      const first = await pipe.generate(small);
      await pipe.generate({ ...small, height: 96 }); // the text encoder session (least recently used) goes
      expect(pipe.graphStats).toMatchObject({ sessions: 3, released: 1 });
      const again = await pipe.generate(small); // still held: no new session
      expect(pipe.graphStats).toMatchObject({ sessions: 3, released: 1 });
      expect(Array.from(again.images[0]!.data)).toEqual(Array.from(first.images[0]!.data));
      await pipe.generate({ ...small, prompt: 'a dog' }); // the text encoder comes back, the 96-pixel graph goes
      expect(pipe.graphStats).toMatchObject({ sessions: 4, released: 2 });
      expect(runtime.created).toEqual(['text-encoder', 'one-step', 'one-step', 'text-encoder']);
    } finally {
      await pipe.dispose();
    }
    await expect(StableDiffusionPipeline.load(goldenSource(model), countingRuntime(), { maxSessions: 0 })).rejects.toThrow(/maxSessions must be an integer ≥ 1/);
  });
});
