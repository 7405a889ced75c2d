// Single-file checkpoints on golden SD 1.x parts: sdxs convert both ways, the LDM names written, loading the file
// (library and CLI), configs from shapes, and the errors.
import { readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SingleFileSource } from '@sdxs/pipeline';
import { LocalFolderSource } from '@sdxs/runtime-node';
import { ArrayBufferByteSource, encodeSafetensors, Tensor } from '@sdxs/tensor';
import { FileByteSource } from '@sdxs/tensor/node';
import { runCli, tempDir } from './cli-helpers.js';
import { cli, composeGoldenFolder, expectDerivedConfigs, roundTrip, tensors, VAE_FIELDS } from './single-file-helpers.js';

let work: { path: string; cleanup(): void };
beforeAll(() => {
  work = tempDir('sdxs-single-');
});
afterAll(() => work?.cleanup());

describe('single-file checkpoints: golden SD 1.x components (CLIP-L, U-Net with a mid block, AutoencoderKL)', () => {
  let folder: string;
  let file: string;
  beforeAll(async () => {
    folder = composeGoldenFolder(join(work.path, 'sd15'), 'unet-sd15');
    ({ file } = await roundTrip(work.path, 'sd15', folder));
  });

  it('round-trips: same images from the file and from the folder converted back, same tensors byte for byte', () => {
    expect(file).toBe(join(work.path, 'sd15.safetensors'));
  });

  it("writes diffusers' LDM names and shapes", async () => {
    const t = await tensors(file);
    const shape = (k: string) => t.get(k)?.shape;
    expect(shape('model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight')).toEqual([32, 32]);
    expect(shape('model.diffusion_model.input_blocks.0.0.weight')).toEqual([32, 4, 3, 3]);
    expect(shape('model.diffusion_model.input_blocks.3.0.op.weight')).toEqual([32, 32, 3, 3]);
    expect(shape('model.diffusion_model.middle_block.1.proj_in.weight')).toEqual([64, 64, 1, 1]);
    expect(shape('model.diffusion_model.middle_block.2.emb_layers.1.weight')).toEqual([64, 128]);
    expect(shape('model.diffusion_model.output_blocks.2.1.conv.weight')).toEqual([64, 64, 3, 3]);
    expect(shape('model.diffusion_model.output_blocks.5.2.conv.weight')).toEqual([64, 64, 3, 3]);
    expect(shape('model.diffusion_model.output_blocks.8.0.skip_connection.weight')).toEqual([32, 64, 1, 1]);
    expect(shape('model.diffusion_model.time_embed.0.weight')).toEqual([128, 32]);
    expect(shape('model.diffusion_model.out.2.weight')).toEqual([4, 32, 3, 3]);
    expect(shape('first_stage_model.encoder.mid.attn_1.q.weight')).toEqual([64, 64, 1, 1]);
    expect(shape('first_stage_model.decoder.mid.attn_1.proj_out.weight')).toEqual([64, 64, 1, 1]);
    expect(shape('first_stage_model.decoder.up.1.upsample.conv.weight')).toEqual([64, 64, 3, 3]);
    expect(shape('first_stage_model.decoder.up.0.block.0.nin_shortcut.weight')).toEqual([32, 64, 1, 1]);
    expect(shape('first_stage_model.encoder.norm_out.weight')).toEqual([64]);
    expect(shape('first_stage_model.quant_conv.weight')).toEqual([8, 8, 1, 1]);
    expect(shape('cond_stage_model.transformer.text_model.embeddings.position_embedding.weight')).toEqual([77, 32]);
    expect([...t.keys()].filter((k) => !/^(model\.diffusion_model|first_stage_model|cond_stage_model\.transformer\.text_model)\./.test(k))).toEqual([]);
  });

  // scaling_factor is SD 1.x's default (0.18215), as the golden VAE's.
  it('derives the configs from the shapes', () => expectDerivedConfigs(file, folder, [...VAE_FIELDS, 'scaling_factor']));

  it("passes the config folder's files through as they are (Python's JSON: Infinity)", async () => {
    const withInf = composeGoldenFolder(join(work.path, 'sd15-inf'), 'unet-sd15');
    const text = readFileSync(join(withInf, 'scheduler/scheduler_config.json'), 'utf8').replace('{', '{\n  "s_tmax": Infinity,');
    writeFileSync(join(withInf, 'scheduler/scheduler_config.json'), text);
    const source = await SingleFileSource.open(() => FileByteSource.open(file), { config: new LocalFolderSource(withInf) });
    expect(await source.readText('scheduler/scheduler_config.json')).toBe(text);
    expect(await source.readText('unet/config.json')).toBe(readFileSync(join(withInf, 'unet/config.json'), 'utf8'));
    expect(source.derived).toEqual([]);
  });

  it('sdxs generate and sdxs info take the file', async () => {
    const png = await cli(work.path, 'generate', 'a red circle', '--model', file, '--config', folder, '--seed', '3', '--threads', '2', '--out', 'sf.png');
    expect(readFileSync(png).length).toBeGreaterThan(0);
    const info = await cli(work.path, 'info', file, '--config', folder);
    expect(info).toMatch(/model\s+sd15/);
    expect(info).toMatch(/checkpoint\s+single file, SD 1\.x layout; every config from --config/);
  });

  it('without --config or a cached tokenizer, says which tokenizer repo it needs and how to pass --config', async () => {
    const r = await runCli(['generate', 'x', '--model', file, '--out', 'no.png'], { cwd: work.path, env: { HF_HUB_CACHE: join(work.path, 'empty-hf') } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/openai\/clip-vit-large-patch14/);
    expect(r.stderr).toMatch(/--config/);
  });

  it('convert leaves nothing behind when it fails, and does not overwrite without --force', async () => {
    const bad = composeGoldenFolder(join(work.path, 'bad'), 'unet-sd15');
    rmSync(join(bad, 'unet/diffusion_pytorch_model.safetensors'));
    symlinkSync(realpathSync(join(bad, 'vae/diffusion_pytorch_model.safetensors')), join(bad, 'unet/diffusion_pytorch_model.safetensors'));
    const before = readdirSync(work.path).sort();
    const r = await runCli(['convert', bad, '--to', 'single-file', '--out', 'bad.safetensors'], { cwd: work.path });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/bad\/unet: [\w.]+: not a parameter of the Stable Diffusion U-Net layout/);
    expect(readdirSync(work.path).sort()).toEqual(before);
    const again = await runCli(['convert', folder, '--to', 'single-file', '--out', 'sd15.safetensors'], { cwd: work.path });
    expect([again.code, again.stderr]).toEqual([2, expect.stringMatching(/--out sd15\.safetensors exists \(--force replaces it\)/)]);
  });

  it('refuses a truncated file, a LoRA file and a checkpoint without a VAE, naming the file', async () => {
    const bytes = readFileSync(file);
    writeFileSync(join(work.path, 'cut.safetensors'), bytes.subarray(0, bytes.length >> 1));
    const cut = await runCli(['info', 'cut.safetensors'], { cwd: work.path });
    expect(cut.code).not.toBe(0);
    expect(cut.stderr).toMatch(/cut\.safetensors/);

    const open = (data: Uint8Array, name: string) => SingleFileSource.open(new ArrayBufferByteSource(data, { name }));
    const w = new Tensor('float32', [2, 2], new Float32Array(4));
    await expect(open(encodeSafetensors({ 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight': w }), 'style.safetensors')).rejects.toThrow(/style\.safetensors: a LoRA file, not a checkpoint/);
    const all = await tensors(file);
    const noVae = Object.fromEntries([...all].filter(([k]) => !k.startsWith('first_stage_model.')).map(([k, t]) => [k, new Tensor('float32', t.shape, new Float32Array(t.bytes.buffer.slice(t.bytes.byteOffset, t.bytes.byteOffset + t.bytes.length)))]));
    await expect(open(encodeSafetensors(noVae), 'novae.safetensors')).rejects.toThrow(/novae\.safetensors: the checkpoint has no VAE/);
    await expect(open(encodeSafetensors({ 'down_blocks.0.resnets.0.conv1.weight': w }), 'unet.safetensors')).rejects.toThrow(/unet\.safetensors: not a Stable Diffusion checkpoint/);
  });
});
