// `sdxs serve` with an SDXL-family folder (the tiny one assembled from ../shared/golden): OpenAI's and A1111's routes
// return the pipeline's own images, batched requests included, with SDXL's added conditions at the output size.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StableDiffusionPipeline } from '@sdxs/pipeline';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { createServer, LocalEngine, type ServedModel } from '@sdxs/server';
import { buildSdxlFolder, type SdxlFolder } from '../../../tools/golden/build-sdxl-folder.js';
import { pixels, sameBytes } from './helpers.js';

let folder: SdxlFolder;
let model: ServedModel;
let app: FastifyInstance;

beforeAll(async () => {
  folder = await buildSdxlFolder();
  const pipe = await StableDiffusionPipeline.load(folder.source, createNodeRuntime({ intraOpThreads: 2 }), { name: 'tiny-sdxl' });
  model = { name: 'tiny-sdxl', pipe, steps: 2, guidanceScale: 3, executionProvider: 'cpu', dtype: 'float32' };
  const engine = new LocalEngine([model], { maxBatch: 8, batchWaitMs: 30, maxQueue: 64, version: 'test' });
  app = await createServer({ engine, models: [model], apiKey: undefined });
});
afterAll(async () => {
  await app?.close();
  await model?.pipe.dispose();
  folder?.cleanup();
});

describe('serving an SDXL folder', () => {
  it('OpenAI route: n images, each the pipeline image of its seed (negative prompt "", time ids of the size)', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/images/generations', payload: { prompt: 'a cat in a hat', n: 2, seed: 9, size: '32x32' } });
    expect(r.statusCode, r.body).toBe(200);
    const data = r.json().data as { b64_json: string; seed: string }[];
    expect(data).toHaveLength(2);
    for (const [i, d] of data.entries()) {
      const png = pixels(d.b64_json);
      expect([png.width, png.height]).toEqual([32, 32]);
      const { images } = await model.pipe.generate({ prompt: 'a cat in a hat', negativePrompt: '', seed: 9 + i, steps: 2, guidanceScale: 3, width: 32, height: 32 });
      expect(sameBytes(png.data, images[0]!.data)).toBe(true);
      expect(png.text.parameters).toContain('Model: tiny-sdxl');
    }
  });

  it('A1111 txt2img: a negative prompt and a non-square size reach the SDXL pipeline', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/sdapi/v1/txt2img',
      payload: { prompt: 'a dog', negative_prompt: 'blurry', seed: 3, steps: 1, cfg_scale: 4, width: 48, height: 32 },
    });
    expect(r.statusCode, r.body).toBe(200);
    const png = pixels(r.json().images[0]);
    expect([png.width, png.height]).toEqual([48, 32]);
    const { images } = await model.pipe.generate({ prompt: 'a dog', negativePrompt: 'blurry', seed: 3, steps: 1, guidanceScale: 4, width: 48, height: 32 });
    expect(sameBytes(png.data, images[0]!.data)).toBe(true);
    // The size conditioning follows the output size: a request for another original size is another image.
    const other = await model.pipe.generate({ prompt: 'a dog', negativePrompt: 'blurry', seed: 3, steps: 1, guidanceScale: 4, width: 48, height: 32, originalSize: { width: 96, height: 64 } });
    expect(sameBytes(png.data, other.images[0]!.data)).toBe(false);
  });
});
