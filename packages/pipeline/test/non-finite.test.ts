// Weights holding NaN give an error naming the component that produced it, not a black image: the graphs' check
// outputs (U-Net, VAE) and the prompt embeddings (text encoder), for one step (fused), several steps and img2img.
import { cpSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NonFiniteError, StableDiffusionPipeline } from '@sdxs/pipeline';
import { createNodeRuntime, LocalFolderSource } from '@sdxs/runtime-node';
import { Tensor, type Runtime } from '@sdxs/tensor';
import { loadSafetensorsFile, writeSafetensorsFile } from '@sdxs/tensor/node';
import type { MaterializedFolder } from '../../../tools/golden/materialize.js';
import { goldenModel } from './_helpers.js';

const runtime: Runtime = createNodeRuntime({ intraOpThreads: 2 });

/** A copy of the golden model whose `file` has the first tensor matching `pick` filled with NaN. */
async function poisoned(model: MaterializedFolder, name: string, file: string, pick: (key: string) => boolean): Promise<string> {
  const dir = join(model.path, '..', `poisoned-${name}`);
  cpSync(model.path, dir, { recursive: true, verbatimSymlinks: true });
  const { tensors, metadata } = await loadSafetensorsFile(join(model.path, file));
  const key = [...tensors.keys()].find(pick)!;
  const t = tensors.get(key)!;
  tensors.set(key, new Tensor('float32', t.shape, new Float32Array(t.size).fill(Number.NaN)));
  unlinkSync(join(dir, file));
  await writeSafetensorsFile(join(dir, file), Object.fromEntries(tensors), metadata);
  return dir;
}

describe('non-finite outputs are errors naming the component', () => {
  let model: MaterializedFolder;
  const pipes: StableDiffusionPipeline[] = [];
  const load = async (dir: string) => {
    const p = await StableDiffusionPipeline.load(new LocalFolderSource(dir), runtime);
    pipes.push(p);
    return p;
  };
  beforeAll(() => {
    model = goldenModel();
  });
  afterAll(async () => {
    await Promise.all(pipes.map((p) => p.dispose()));
    model?.cleanup();
  });

  it('a U-Net weight of NaN: one step (fused), two steps and img2img all refuse, naming unet/', async () => {
    const pipe = await load(await poisoned(model, 'unet', 'unet/diffusion_pytorch_model.safetensors', (k) => k === 'conv_in.weight'));
    for (const steps of [1, 2]) {
      const e = await pipe.generate({ prompt: 'a cat', seed: 1, steps }).catch((x: unknown) => x);
      expect(e, `steps ${steps}`).toBeInstanceOf(NonFiniteError);
      expect((e as NonFiniteError).component).toBe('unet');
      expect((e as Error).message).toMatch(/^the unet produced NaN or infinite values \(.*poisoned-unet\/unet\): its weights hold non-finite numbers; no image was made$/);
    }
    const image = { width: 128, height: 128, data: new Uint8ClampedArray(128 * 128 * 4).fill(128) };
    await expect(pipe.img2img({ prompt: 'a cat', image, strength: 0.5, seed: 1 })).rejects.toThrow(/^the unet produced NaN/);
  });

  it('a VAE decoder weight of NaN names vae/; a text encoder weight of NaN names text_encoder/', async () => {
    const vae = await load(await poisoned(model, 'vae', 'vae/diffusion_pytorch_model.safetensors', (k) => k.startsWith('decoder.') && k.endsWith('weight')));
    await expect(vae.generate({ prompt: 'a cat', seed: 1 })).rejects.toThrow(/^the vae produced NaN or infinite values \(.*poisoned-vae\/vae\)/);
    const text = await load(await poisoned(model, 'text', 'text_encoder/model.safetensors', (k) => k.includes('token_embedding')));
    await expect(text.generate({ prompt: 'a cat', seed: 1 })).rejects.toThrow(/^the text_encoder produced NaN or infinite values \(.*poisoned-text\/text_encoder\)/);
  });

  it('the unpoisoned model passes the checks', async () => {
    const pipe = await load(model.path);
    const r = await pipe.generate({ prompt: 'a cat', seed: 1 });
    expect(r.images).toHaveLength(1);
  });
});
