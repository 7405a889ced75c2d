// Shared by the single-file tests: diffusers folders composed of golden components that fit together (weights
// symlinked into a temp folder), and the round trip folder → single file → folder.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import {
  identifyCheckpoint,
  ldmToDiffusers,
  SingleFileSource,
  StableDiffusionPipeline,
  textConfigFromShapes,
  unetConfigFromShapes,
  vaeConfigFromShapes,
  type GenerateResult,
} from '@sdxs/pipeline';
import { createNodeRuntime, LocalFolderSource, openSingleFile } from '@sdxs/runtime-node';
import { SafetensorsFile } from '@sdxs/tensor';
import { FileByteSource } from '@sdxs/tensor/node';
import { resolveGoldenPath } from '../../../tools/golden/links.js';
import { GOLDEN, PIPELINE_CASE, runCli } from './cli-helpers.js';

/** The golden one-step Euler settings (pipeline-sdxs512-t2i's case.json). */
export const EULER = { _class_name: 'EulerDiscreteScheduler', ...(JSON.parse(readFileSync(join(PIPELINE_CASE, 'case.json'), 'utf8')) as { scheduler_config: object }).scheduler_config };

function link(from: string, to: string): void {
  mkdirSync(join(to, '..'), { recursive: true });
  symlinkSync(resolveGoldenPath(from), to);
}

/**
 * A StableDiffusionPipeline folder at `dir` from golden cases: `unet` (unet-sd15 or unet-sdxs512), vae-kl,
 * text-clip-l, the CLIP-L tokenizer and an Euler scheduler.
 *
 * @example
 * composeGoldenFolder(join(tmp, 'sd15'), 'unet-sd15');
 */
export function composeGoldenFolder(dir: string, unet: 'unet-sd15' | 'unet-sdxs512', textEncoder: 'text-clip-l' | 'text-open-clip-proj' = 'text-clip-l'): string {
  const write = (path: string, o: unknown) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), `${JSON.stringify(o, null, 2)}\n`);
  };
  write('model_index.json', {
    _class_name: 'StableDiffusionPipeline',
    _diffusers_version: '0.31.0',
    scheduler: ['diffusers', 'EulerDiscreteScheduler'],
    text_encoder: ['transformers', 'CLIPTextModel'],
    tokenizer: ['transformers', 'CLIPTokenizer'],
    unet: ['diffusers', 'UNet2DConditionModel'],
    vae: ['diffusers', 'AutoencoderKL'],
  });
  link(join(GOLDEN, unet, 'config.json'), join(dir, 'unet/config.json'));
  link(join(GOLDEN, unet, 'model.safetensors'), join(dir, 'unet/diffusion_pytorch_model.safetensors'));
  link(join(GOLDEN, 'vae-kl/config.json'), join(dir, 'vae/config.json'));
  link(join(GOLDEN, 'vae-kl/model.safetensors'), join(dir, 'vae/diffusion_pytorch_model.safetensors'));
  link(join(GOLDEN, textEncoder, 'config.json'), join(dir, 'text_encoder/config.json'));
  link(join(GOLDEN, textEncoder, 'model.safetensors'), join(dir, 'text_encoder/model.safetensors'));
  linkTokenizer(join(dir, 'tokenizer'), textEncoder === 'text-clip-l' ? 'tokenizer-clip-l' : 'tokenizer-open-clip');
  write('scheduler/scheduler_config.json', EULER);
  return dir;
}

/** The golden tokenizer files (`tokenizer-clip-l` or `tokenizer-open-clip`) linked into `dir`. */
export function linkTokenizer(dir: string, which: 'tokenizer-clip-l' | 'tokenizer-open-clip'): void {
  for (const name of ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json']) link(join(GOLDEN, 'tokenizer-clip', which, name), join(dir, name));
}

const runtime = createNodeRuntime({ intraOpThreads: 2 });

export async function tensors(path: string): Promise<Map<string, { dtype: string; shape: readonly number[]; bytes: Buffer }>> {
  const file = await SafetensorsFile.open(await FileByteSource.open(path));
  try {
    const all = await file.readAll();
    return new Map([...all].map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape, bytes: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength) }]));
  } finally {
    await file.close();
  }
}

export async function image(source: LocalFolderSource | SingleFileSource, steps?: number): Promise<GenerateResult> {
  const pipe = await StableDiffusionPipeline.load(source, runtime);
  try {
    return await pipe.generate({ prompt: 'a red circle on a blue background', seed: 7, ...(steps ? { steps, guidanceScale: 1 } : {}) });
  } finally {
    await pipe.dispose();
  }
}

export const same = (a: GenerateResult, b: GenerateResult) => Buffer.from(a.images[0]!.data).equals(Buffer.from(b.images[0]!.data));

/** `sdxs <argv>` in `cwd`, which must succeed; its stdout trimmed. */
export async function cli(cwd: string, ...argv: string[]): Promise<string> {
  const r = await runCli(argv, { cwd });
  expect(r.stderr).not.toMatch(/^sdxs.*error/im);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

const COMPONENT_FILES = ['unet/diffusion_pytorch_model.safetensors', 'vae/diffusion_pytorch_model.safetensors', 'text_encoder/model.safetensors'];

/** Folder → single file → folder: the file loads to the same images, the folder has the same tensors, byte for byte. */
export async function roundTrip(cwd: string, name: string, folder: string, steps?: number): Promise<{ file: string; back: string }> {
  const file = await cli(cwd, 'convert', folder, '--to', 'single-file', '--out', `${name}.safetensors`);
  const reference = await image(new LocalFolderSource(folder), steps);
  const fromFile = await image(await openSingleFile(file, { config: folder }), steps);
  expect(same(reference, fromFile)).toBe(true);

  const back = await cli(cwd, 'convert', file, '--to', 'diffusers', '--out', `${name}-back`, '--config', folder);
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
export function expectFields(got: Record<string, unknown>, want: Record<string, unknown>, fields: readonly string[]): void {
  for (const f of fields) expect([f, got[f]]).toEqual([f, want[f]]);
}

const UNET_FIELDS = ['in_channels', 'out_channels', 'down_block_types', 'mid_block_type', 'up_block_types', 'block_out_channels', 'layers_per_block', 'cross_attention_dim', 'transformer_layers_per_block', 'use_linear_projection', 'addition_embed_type', 'conv_in_kernel', 'conv_out_kernel'];
export const VAE_FIELDS = ['in_channels', 'out_channels', 'down_block_types', 'up_block_types', 'block_out_channels', 'layers_per_block', 'latent_channels', 'mid_block_add_attention'];
const TEXT_FIELDS = ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'max_position_embeddings', 'hidden_act'];

/** Configs derived from the file's shapes (config-from-shapes) match the originals in every field shapes decide. */
export async function expectDerivedConfigs(file: string, folder: string, vaeFields: readonly string[] = VAE_FIELDS): Promise<void> {
  const bytes = await FileByteSource.open(file);
  const st = await SafetensorsFile.open(bytes);
  try {
    const id = identifyCheckpoint(st.names(), file);
    const parts = ldmToDiffusers(st.entries, bytes, id, file);
    const shapes = (dir: string) => new Map(parts[dir]!.map((t) => [t.name, t.shape]));
    const original = new LocalFolderSource(folder);
    const read = async (p: string) => JSON.parse(await original.readText(p)) as Record<string, unknown>;
    expectFields(unetConfigFromShapes(shapes('unet'), id.family), await read('unet/config.json'), UNET_FIELDS);
    expectFields(vaeConfigFromShapes(shapes('vae'), id.family), await read('vae/config.json'), vaeFields);
    expectFields(textConfigFromShapes(shapes('text_encoder'), false), await read('text_encoder/config.json'), TEXT_FIELDS);
  } finally {
    await st.close();
  }
}
