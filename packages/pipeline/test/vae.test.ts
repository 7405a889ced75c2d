import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleWeights, decodeGraph, openComponentWeights, packGraph, pipelineVae, StableDiffusionPipeline, VAE_COMPONENTS } from '@sdxs/pipeline';
import { createNodeRuntime, LocalFolderSource } from '@sdxs/runtime-node';
import { Tensor } from '@sdxs/tensor';
import { openSafetensorsFile } from '@sdxs/tensor/node';
import { resolveGoldenPath } from '../../../tools/golden/links.js';
import { materializeModelFolder, type MaterializedFolder } from '../../../tools/golden/materialize.js';
import { GOLDEN, goldenModel, goldenSource, maxAbsDiff } from './_helpers.js';

const runtime = createNodeRuntime({ intraOpThreads: 2 });

async function caseTensor(caseName: string, file: string, name: string): Promise<Tensor<'float32'>> {
  const f = await openSafetensorsFile(resolveGoldenPath(join(GOLDEN, caseName, file)));
  try {
    const t = await f.read(name);
    if (!(t.data instanceof Float32Array)) throw new Error(`${caseName}/${file}: ${name} is not float32`);
    return new Tensor('float32', t.shape, t.data);
  } finally {
    await f.close();
  }
}

/** diffusers' postprocess of a [-1, 1] NCHW image, in float32: (x * 0.5 + 0.5).clamp(0, 1), as NHWC. */
function postprocess(x: Tensor<'float32'>): Tensor<'float32'> {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const out = new Float32Array(x.size);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let p = 0; p < h * w; p++) {
        const v = Math.fround(Math.fround(x.data[(b * c + k) * h * w + p]! * 0.5) + 0.5);
        out[(b * h * w + p) * c + k] = Math.min(Math.max(v, 0), 1);
      }
  return new Tensor('float32', [n, h, w, c], out);
}

describe('decode graph (decoder + postprocess) against the golden VAE cases', () => {
  for (const caseName of ['vae-tiny', 'vae-kl']) {
    it(`${caseName}: latents / scaling_factor → decoder → image and RGBA`, async () => {
      const folder = materializeModelFolder(join(GOLDEN, caseName));
      const source = new LocalFolderSource(folder.path);
      const vae = pipelineVae(caseName === 'vae-kl' ? 'AutoencoderKL' : 'AutoencoderTiny', JSON.parse(await source.readText('config.json')), `${caseName}/config.json`);
      const weights = await openComponentWeights(source, '', {}, () => ({ ignore: vae.ignore }));
      try {
        const latents = await caseTensor(caseName, 'inputs.safetensors', 'latents');
        const expected = postprocess(await caseTensor(caseName, 'outputs.safetensors', 'decoded'));
        const [batch, , latentHeight, latentWidth] = latents.shape as [number, number, number, number];
        const packed = packGraph(decodeGraph(vae, { batch, latentHeight, latentWidth }, { target: 'cpu', dtype: 'float32' }), VAE_COMPONENTS);
        const session = await runtime.createSession(packed.model, { externalData: await assembleWeights(packed.manifest, { vae: weights }) });
        try {
          // The graph divides by scaling_factor (0.18215 for the KL VAE), so feed latents × scaling_factor.
          const scaled = new Tensor('float32', latents.shape, latents.data.map((v) => v * Math.fround(vae.scalingFactor)));
          const out = await session.run({ latents: scaled }, ['image', 'rgba']);
          const image = out.image!;
          expect(image.shape).toEqual(expected.shape);
          expect(maxAbsDiff(image, expected)).toBeLessThan(1e-4);
          const rgba = out.rgba!;
          expect(rgba.dtype).toBe('uint8');
          let worst = 0;
          for (let i = 0, j = 0; i < expected.size; i += 3, j += 4) {
            for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(Number(rgba.data[j + c]) - Math.round(Math.fround(expected.data[i + c]! * 255))));
            expect(rgba.data[j + 3]).toBe(255);
          }
          expect(worst).toBeLessThanOrEqual(1);
        } finally {
          await session.dispose();
        }
      } finally {
        await Promise.all(weights.files.map((f) => f.close()));
        folder.cleanup();
      }
    });
  }
});

describe("SDXS's vae_large (an AutoencoderKL next to the tiny decoder)", () => {
  let model: MaterializedFolder;
  beforeAll(() => {
    model = goldenModel();
    // The golden vae-kl case stands in for vae_large/ (its scale factor is 2, not 8: two blocks).
    mkdirSync(join(model.path, 'vae_large'));
    symlinkSync(resolveGoldenPath(join(GOLDEN, 'vae-kl/config.json')), join(model.path, 'vae_large/config.json'));
    symlinkSync(resolveGoldenPath(join(GOLDEN, 'vae-kl/model.safetensors')), join(model.path, 'vae_large/diffusion_pytorch_model.safetensors'));
  });
  afterAll(() => model?.cleanup());

  it('decodes with the chosen VAE, fused and unfused alike', async () => {
    const large = await StableDiffusionPipeline.load(goldenSource(model), runtime, { vae: 'vae_large' });
    const unfused = await StableDiffusionPipeline.load(goldenSource(model), runtime, { vae: 'vae_large', fuseOneStep: false });
    try {
      expect(large.info().components[2]).toMatchObject({ name: 'vae', className: 'AutoencoderKL', dir: 'vae_large' });
      expect(large.defaultSize).toEqual({ width: 32, height: 32 });
      await expect(large.generate({ prompt: 'x', width: 33 })).rejects.toThrow(/multiple of 2/);
      const a = await large.generate({ prompt: 'a photo of a cat', seed: 0, float: true });
      const b = await unfused.generate({ prompt: 'a photo of a cat', seed: 0, float: true });
      expect(a.images[0]).toMatchObject({ width: 32, height: 32 });
      expect(maxAbsDiff(a.float!, b.float!)).toBeLessThan(1e-4);
    } finally {
      await large.dispose();
      await unfused.dispose();
    }
  });
});
