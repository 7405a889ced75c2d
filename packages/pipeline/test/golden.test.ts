import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StableDiffusionPipeline } from '@sdxs/pipeline';
import { createNodeRuntime } from '@sdxs/runtime-node';
import type { MaterializedFolder } from '../../../tools/golden/materialize.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CASE, goldenModel, goldenOutput, goldenSource, maxAbsDiff } from './_helpers.js';

// ../shared/golden/pipeline-sdxs512-t2i: diffusers' StableDiffusionPipeline, 1 step, guidance 0, Euler trailing.
const spec = JSON.parse(readFileSync(join(CASE, 'case.json'), 'utf8')) as { prompts: string[]; height: number; width: number; num_inference_steps: number; guidance_scale: number };

describe('StableDiffusionPipeline on the golden SDXS-512-layout case', () => {
  let model: MaterializedFolder;
  let pipe: StableDiffusionPipeline;
  beforeAll(async () => {
    model = goldenModel();
    pipe = await StableDiffusionPipeline.load(goldenSource(model), createNodeRuntime({ intraOpThreads: 2 }));
  });
  afterAll(async () => {
    await pipe?.dispose();
    model?.cleanup();
  });

  it('defaults to the U-Net sample size times the VAE scale factor', () => {
    expect(pipe.defaultSize).toEqual({ width: spec.width, height: spec.height });
  });

  for (const seed of [0, 42]) {
    it(`seed ${seed}: float image within 2/255 and RGBA bytes within 2 levels of diffusers' round(x·255)`, async () => {
      const reference = await goldenOutput(`images_seed${seed}`);
      const result = await pipe.generate({
        prompt: spec.prompts,
        seed,
        steps: spec.num_inference_steps,
        guidanceScale: spec.guidance_scale,
        width: spec.width,
        height: spec.height,
        float: true,
      });
      expect(result.fused).toBe(true);
      expect(result.seed).toBe(BigInt(seed));
      expect(result.float!.shape).toEqual(reference.shape);
      const err = maxAbsDiff(result.float!, reference);
      console.log(`seed ${seed}: max |image - diffusers| = ${err.toExponential(2)} (${(err * 255).toFixed(4)}/255)`);
      expect(err).toBeLessThanOrEqual(2 / 255);

      expect(result.images).toHaveLength(2);
      let worst = 0;
      const ref = reference.data as Float32Array;
      const [, h, w] = reference.shape as [number, number, number, number];
      result.images.forEach((img, n) => {
        expect([img.width, img.height, img.data.length]).toEqual([w, h, w * h * 4]);
        for (let p = 0; p < w * h; p++) {
          // numpy_to_pil: (x * 255).round().astype("uint8"), x already clamped to [0, 1].
          for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(img.data[p * 4 + c]! - Math.round(Math.fround(ref[(n * w * h + p) * 3 + c]! * 255))));
          expect(img.data[p * 4 + 3]).toBe(255);
        }
      });
      console.log(`seed ${seed}: max |rgba - diffusers uint8| = ${worst}`);
      expect(worst).toBeLessThanOrEqual(2);
    });
  }

  it('prompt_embeds match the text encoder of the reference', async () => {
    const reference = await goldenOutput('prompt_embeds');
    const embeds = await pipe.encodePrompt(spec.prompts);
    expect(embeds.shape).toEqual(reference.shape);
    // Relative to the reference's largest magnitude, as the golden runner's text-encoder cases compare.
    const scale = Math.max(...Array.from(reference.data as Float32Array, Math.abs));
    expect(maxAbsDiff(embeds, reference) / scale).toBeLessThanOrEqual(1e-4);
  });
});
