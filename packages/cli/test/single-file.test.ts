// Single-file checkpoints: sdxs convert both ways, loading the file (library and CLI), configs from shapes.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SingleFileSource, StableDiffusionPipeline, type GenerateResult } from '@sdxs/pipeline';
import { createNodeRuntime, embeddedModel, LocalFolderSource, openSingleFile } from '@sdxs/runtime-node';
import { ArrayBufferByteSource, SafetensorsFile } from '@sdxs/tensor';
import { FileByteSource } from '@sdxs/tensor/node';
import { runCli, tempDir } from './cli-helpers.js';
import { composeGoldenFolder } from './single-file-compose.js';

const runtime = createNodeRuntime({ intraOpThreads: 2 });
let work: { path: string; cleanup(): void };
beforeAll(() => {
  work = tempDir('sdxs-single-');
});
afterAll(() => work?.cleanup());

async function tensors(path: string): Promise<Map<string, { dtype: string; shape: readonly number[]; bytes: Buffer }>> {
  const file = await SafetensorsFile.open(await FileByteSource.open(path));
  try {
    const all = await file.readAll();
    return new Map([...all].map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape, bytes: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength) }]));
  } finally {
    await file.close();
  }
}

async function image(source: LocalFolderSource | SingleFileSource, steps?: number): Promise<GenerateResult> {
  const pipe = await StableDiffusionPipeline.load(source, runtime);
  try {
    return await pipe.generate({ prompt: 'a red circle on a blue background', seed: 7, ...(steps ? { steps, guidanceScale: 1 } : {}) });
  } finally {
    await pipe.dispose();
  }
}

const same = (a: GenerateResult, b: GenerateResult) => Buffer.from(a.images[0]!.data).equals(Buffer.from(b.images[0]!.data));

async function cli(...argv: string[]): Promise<string> {
  const r = await runCli(argv, { cwd: work.path });
  expect(r.stderr).not.toMatch(/^sdxs.*error/im);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

const COMPONENT_FILES = ['unet/diffusion_pytorch_model.safetensors', 'vae/diffusion_pytorch_model.safetensors', 'text_encoder/model.safetensors'];

/** Folder → single file → folder: the file loads to the same images, the folder has the same tensors, byte for byte. */
async function roundTrip(name: string, folder: string, steps?: number): Promise<{ file: string; back: string }> {
  const file = await cli('convert', folder, '--to', 'single-file', '--out', `${name}.safetensors`);
  const reference = await image(new LocalFolderSource(folder), steps);
  const fromFile = await image(await openSingleFile(file, { config: folder }), steps);
  expect(same(reference, fromFile)).toBe(true);

  const back = await cli('convert', file, '--to', 'diffusers', '--out', `${name}-back`, '--config', folder);
  for (const path of COMPONENT_FILES) {
    // transformers 5 saves CLIPTextModel without `text_model.`; the LDM layout (and so the folder back) has it.
    const key = (k: string) => (path.startsWith('text_encoder') && !k.startsWith('text_model.') ? `text_model.${k}` : k);
    const want = new Map([...(await tensors(join(folder, path)))].filter(([k]) => !k.endsWith('position_ids')).map(([k, t]) => [key(k), t]));
    const got = await tensors(join(back, path));
    expect([...got.keys()].sort(), path).toEqual([...want.keys()].sort());
    for (const [k, t] of got) {
      const w = want.get(k)!;
      expect([t.dtype, t.shape], k).toEqual([w.dtype, w.shape]);
      expect(t.bytes.equals(w.bytes), k).toBe(true);
    }
  }
  expect(same(reference, await image(new LocalFolderSource(back), steps))).toBe(true);
  return { file, back };
}

/** The fields of `got` that shapes decide equal those of `want`. */
function expectFields(got: Record<string, unknown>, want: Record<string, unknown>, fields: readonly string[]): void {
  for (const f of fields) expect([f, got[f]]).toEqual([f, want[f]]);
}

const UNET_FIELDS = ['in_channels', 'out_channels', 'down_block_types', 'mid_block_type', 'up_block_types', 'block_out_channels', 'layers_per_block', 'cross_attention_dim', 'transformer_layers_per_block', 'use_linear_projection', 'addition_embed_type', 'conv_in_kernel', 'conv_out_kernel'];
const VAE_FIELDS = ['in_channels', 'out_channels', 'down_block_types', 'up_block_types', 'block_out_channels', 'layers_per_block', 'latent_channels', 'mid_block_add_attention'];
const TEXT_FIELDS = ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'max_position_embeddings', 'hidden_act'];

/** Configs derived with no `config` folder match the originals in every field shapes decide. */
async function expectDerivedConfigs(file: string, folder: string, vaeFields: readonly string[] = VAE_FIELDS): Promise<void> {
  const source = await SingleFileSource.open(() => FileByteSource.open(file));
  try {
    const read = async (s: { readText(p: string): Promise<string> }, p: string) => JSON.parse(await s.readText(p)) as Record<string, unknown>;
    const original = new LocalFolderSource(folder);
    expectFields(await read(source, 'unet/config.json'), await read(original, 'unet/config.json'), UNET_FIELDS);
    expectFields(await read(source, 'vae/config.json'), await read(original, 'vae/config.json'), vaeFields);
    expectFields(await read(source, 'text_encoder/config.json'), await read(original, 'text_encoder/config.json'), TEXT_FIELDS);
  } finally {
    await source.close();
  }
}

describe('single-file checkpoints: golden SD 1.x components (CLIP-L, U-Net with a mid block, AutoencoderKL)', () => {
  let folder: string;
  let file: string;
  beforeAll(async () => {
    folder = composeGoldenFolder(join(work.path, 'sd15'), 'unet-sd15');
    ({ file } = await roundTrip('sd15', folder));
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

  it('sdxs generate and sdxs info take the file', async () => {
    const png = await cli('generate', 'a red circle', '--model', file, '--config', folder, '--seed', '3', '--threads', '2', '--out', 'sf.png');
    expect(readFileSync(png).length).toBeGreaterThan(0);
    expect(await cli('info', file, '--config', folder)).toMatch(/model\s+sd15/);
  });

  it('without --config or a cached tokenizer, says which tokenizer repo it needs and how to pass --config', async () => {
    const r = await runCli(['generate', 'x', '--model', file, '--out', 'no.png'], { cwd: work.path, env: { HF_HUB_CACHE: join(work.path, 'empty-hf') } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/openai\/clip-vit-large-patch14/);
    expect(r.stderr).toMatch(/--config/);
  });

  it('refuses a truncated file, a LoRA file and a checkpoint without a VAE, naming the file', async () => {
    const bytes = readFileSync(file);
    writeFileSync(join(work.path, 'cut.safetensors'), bytes.subarray(0, bytes.length >> 1));
    const cut = await runCli(['info', 'cut.safetensors'], { cwd: work.path });
    expect(cut.code).not.toBe(0);
    expect(cut.stderr).toMatch(/cut\.safetensors/);

    const open = (data: Uint8Array, name: string) => SingleFileSource.open(new ArrayBufferByteSource(data, { name }));
    const { encodeSafetensors, Tensor } = await import('@sdxs/tensor');
    const w = new Tensor('float32', [2, 2], new Float32Array(4));
    await expect(open(encodeSafetensors({ 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight': w }), 'style.safetensors')).rejects.toThrow(/style\.safetensors: a LoRA file, not a checkpoint/);
    const all = await tensors(file);
    const noVae = Object.fromEntries([...all].filter(([k]) => !k.startsWith('first_stage_model.')).map(([k, t]) => [k, new Tensor('float32', t.shape, new Float32Array(t.bytes.buffer.slice(t.bytes.byteOffset, t.bytes.byteOffset + t.bytes.length)))]));
    await expect(open(encodeSafetensors(noVae), 'novae.safetensors')).rejects.toThrow(/novae\.safetensors: the checkpoint has no VAE/);
    await expect(open(encodeSafetensors({ 'down_blocks.0.resnets.0.conv1.weight': w }), 'unet.safetensors')).rejects.toThrow(/unet\.safetensors: not a Stable Diffusion checkpoint/);
  });
});

describe('single-file checkpoints: the SDXS-512 U-Net (no mid block)', () => {
  it('round-trips and derives its configs', async () => {
    const folder = composeGoldenFolder(join(work.path, 'sdxs512'), 'unet-sdxs512');
    const { file } = await roundTrip('sdxs512', folder);
    expect((await tensors(file)).has('model.diffusion_model.middle_block.0.in_layers.0.weight')).toBe(false);
    await expectDerivedConfigs(file, folder);
  });
});

describe('single-file checkpoints: the embedded trained sdxs-micro', () => {
  it('round-trips with real weights and derives its configs', async () => {
    const micro = embeddedModel('sdxs-micro');
    expect(micro).toBeDefined();
    const { file } = await roundTrip('micro', micro!.path, 2);
    await expectDerivedConfigs(file, micro!.path);
  });
});
