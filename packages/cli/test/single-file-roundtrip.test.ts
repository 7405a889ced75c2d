// Single-file round trips beyond the golden SD 1.x parts: the SDXS-512 U-Net without a mid block, and the embedded
// trained sdxs-micro (real weights).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SingleFileSource } from '@sdxs/pipeline';
import { embeddedModel } from '@sdxs/runtime-node';
import { FileByteSource } from '@sdxs/tensor/node';
import { tempDir } from './cli-helpers.js';
import { composeGoldenFolder, expectDerivedConfigs, roundTrip, tensors } from './single-file-helpers.js';

let work: { path: string; cleanup(): void };
beforeAll(() => {
  work = tempDir('sdxs-single-rt-');
});
afterAll(() => work?.cleanup());

describe('single-file checkpoints: the SDXS-512 U-Net (no mid block)', () => {
  it('round-trips and derives its configs', async () => {
    const folder = composeGoldenFolder(join(work.path, 'sdxs512'), 'unet-sdxs512');
    const { file } = await roundTrip(work.path, 'sdxs512', folder);
    expect((await tensors(file)).has('model.diffusion_model.middle_block.0.in_layers.0.weight')).toBe(false);
    await expectDerivedConfigs(file, folder);
  });
});

describe('single-file checkpoints: the embedded trained sdxs-micro', () => {
  it('round-trips with real weights and derives its configs', async () => {
    const micro = embeddedModel('sdxs-micro');
    expect(micro).toBeDefined();
    const { file } = await roundTrip(work.path, 'micro', micro!.path, 2);
    await expectDerivedConfigs(file, micro!.path);
    // Its GroupNorm has 8 groups, which shapes cannot show: loading it without a config says so.
    await expect(SingleFileSource.open(() => FileByteSource.open(file))).rejects.toThrow(/micro\.safetensors: its unet's channels \(48, 80, 80\) are not Stable Diffusion's .*--config/);
  });
});
