// loadUNet on model folders: config.json and weights found, checked and bound; problems named.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '@sdxs/graph';
import { LocalFolderSource } from '@sdxs/runtime-node';
import { loadUNet, UNetConfigError } from '@sdxs/unet';
import { caseFile } from '../../../tools/golden/links.js';

const GOLDEN = fileURLToPath(new URL('../../../../shared/golden/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'sdxs-unet-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A diffusers-style model folder with `unet/` made of links to golden files. */
function folder(name: string, config: string, weights: string): LocalFolderSource {
  mkdirSync(join(root, name, 'unet'), { recursive: true });
  symlinkSync(config, join(root, name, 'unet', 'config.json'));
  symlinkSync(weights, join(root, name, 'unet', 'diffusion_pytorch_model.safetensors'));
  return new LocalFolderSource(join(root, name));
}

describe('loadUNet', () => {
  it('binds every parameter of a diffusers unet/ folder', async () => {
    const src = folder('ok', caseFile(`${GOLDEN}unet-sd15`, 'config.json'), caseFile(`${GOLDEN}unet-sd15`, 'model.safetensors'));
    const unet = await loadUNet(src, 'unet', { batch: 1 });
    expect(unet.graph.unbound()).toEqual([]);
    expect(unet.inputs).toEqual(['sample', 'timestep', 'encoder_hidden_states']);
    expect(unet.outputs).toEqual(['out_sample']);
    expect(unet.config.mid_block_type).toBe('UNetMidBlock2DCrossAttn');
  });

  it('refuses weights of another layout, listing the tensors', async () => {
    const src = folder('mismatch', caseFile(`${GOLDEN}unet-sd15`, 'config.json'), caseFile(`${GOLDEN}unet-sdxs512`, 'model.safetensors'));
    const e = await loadUNet(src, 'unet', { batch: 1 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CheckpointError);
    expect((e as CheckpointError).missing).toContain('mid_block.resnets.0.conv1.weight');
  });

  it('names the config file and field of an unsupported config', async () => {
    const bad = join(root, 'bad-config.json');
    writeFileSync(bad, JSON.stringify({ ...JSON.parse(readFileSync(caseFile(`${GOLDEN}unet-sd15`, 'config.json'), 'utf8')), time_cond_proj_dim: 256 }));
    const src = folder('lcm', bad, caseFile(`${GOLDEN}unet-sd15`, 'model.safetensors'));
    const e = await loadUNet(src).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UNetConfigError);
    expect((e as UNetConfigError).file).toBe(`${src.id}/unet/config.json`);
    expect((e as UNetConfigError).field).toBe('time_cond_proj_dim');
  });
});
