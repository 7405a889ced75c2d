import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryGraphCache, StableDiffusionPipeline } from '@sdxs/pipeline';
import { createNodeRuntime } from '@sdxs/runtime-node';
import type { MaterializedFolder } from '../../../tools/golden/materialize.js';
import { goldenModel, goldenSource, maxAbsDiff } from './_helpers.js';

describe('float16 graphs', () => {
  let model: MaterializedFolder;
  beforeAll(() => {
    model = goldenModel();
  });
  afterAll(() => model?.cleanup());

  it('run with float32 inputs and outputs, close to the float32 pipeline, under their own cache keys', async () => {
    const runtime = createNodeRuntime({ intraOpThreads: 2 });
    const cache = new MemoryGraphCache();
    const request = { prompt: 'a photo of a cat', seed: 0, float: true } as const;
    const f32 = await StableDiffusionPipeline.load(goldenSource(model), runtime, { cache });
    const f16 = await StableDiffusionPipeline.load(goldenSource(model), runtime, { cache, dtype: 'float16' });
    try {
      const a = await f32.generate(request);
      const b = await f16.generate(request);
      expect(f16.graphStats).toMatchObject({ built: 1, cacheHits: 1 }); // the text encoder stays float32 and is shared
      const err = maxAbsDiff(a.float!, b.float!);
      console.log(`float16 vs float32 pipeline: max abs ${err.toExponential(2)} (${(err * 255).toFixed(2)}/255)`);
      // Not a golden comparison: half precision through the U-Net (10-bit mantissas) moves pixels by a few levels.
      expect(err).toBeGreaterThan(0);
      expect(err).toBeLessThan(8 / 255);
    } finally {
      await f32.dispose();
      await f16.dispose();
    }
  });
});
