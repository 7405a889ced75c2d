// A list of generators, one per image (diffusers' `generator=[...]`): a batch of requests with their own seeds gives
// each image what a batch-of-one run with its seed gives — what `sdxs serve` relies on to batch requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StableDiffusionPipeline } from '@sdxs/pipeline';
import { Generator, GeneratorList, type Runtime } from '@sdxs/tensor';
import { createNodeRuntime } from '@sdxs/runtime-node';
import type { MaterializedFolder } from '../../../tools/golden/materialize.js';
import { goldenModel, goldenSource } from './_helpers.js';

const runtime: Runtime = createNodeRuntime({ intraOpThreads: 2 });

describe('GeneratorList', () => {
  it('draws row i from generator i as a [1, …] draw, for rows whose size is not a multiple of 16 too', () => {
    for (const shape of [[3, 4, 8, 8], [2, 4, 3, 3], [2, 3]]) {
      const seeds = shape.slice(0, 1).flatMap((n) => Array.from({ length: n }, (_, i) => 11 + 5 * i));
      const noise = new GeneratorList(seeds.map((s) => new Generator(s))).randn(shape);
      const rows = seeds.flatMap((s) => Array.from(new Generator(s).randn([1, ...shape.slice(1)]).data));
      expect(Array.from(noise.data)).toEqual(rows);
      // Not one generator's stream: the rows differ from a single draw of the whole batch.
      expect(Array.from(noise.data)).not.toEqual(Array.from(new Generator(seeds[0]!).randn(shape).data));
    }
  });

  it('refuses a batch of another size', () => {
    expect(() => new GeneratorList([new Generator(1)]).randn([2, 4])).toThrow(/1 generators for a batch of shape \[2, 4\]/);
    expect(() => new GeneratorList([])).toThrow(/at least one generator/);
  });
});

describe('generate({ generator: [...] }) on the golden components', () => {
  let model: MaterializedFolder;
  let pipe: StableDiffusionPipeline;
  beforeAll(async () => {
    model = goldenModel();
    pipe = await StableDiffusionPipeline.load(goldenSource(model), runtime);
  });
  afterAll(async () => {
    await pipe?.dispose();
    model?.cleanup();
  });

  for (const steps of [1, 2]) {
    it(`${steps} step(s): a batch of two prompts with one generator each equals the two batch-of-one runs`, async () => {
      const prompts = ['a photo of a cat', 'a red car'];
      const batched = await pipe.generate({ prompt: prompts, steps, generator: [new Generator(3), new Generator(8)], width: 64, height: 64 });
      const alone = await Promise.all(prompts.map((prompt, i) => pipe.generate({ prompt, steps, seed: [3, 8][i]!, width: 64, height: 64 })));
      expect(batched.images).toHaveLength(2);
      expect(batched.seed).toBeUndefined();
      for (const i of [0, 1]) {
        const a = batched.images[i]!.data;
        const b = alone[i]!.images[0]!.data;
        let maxDiff = 0;
        for (let k = 0; k < a.length; k++) maxDiff = Math.max(maxDiff, Math.abs(a[k]! - b[k]!));
        expect(maxDiff).toBe(0);
      }
    });
  }

  it('refuses a list of the wrong length or of non-generators, naming the field', async () => {
    await expect(pipe.generate({ prompt: ['a', 'b'], generator: [new Generator(1)], width: 64, height: 64 })).rejects.toThrow(/"generator" is a list of 1 generators for 2 images/);
    await expect(pipe.generate({ prompt: 'a', generator: [{} as Generator], width: 64, height: 64 })).rejects.toThrow(/"generator\[0\]" must be a Generator/);
  });
});
