// Single-file checkpoints of the other families (SD 2.x's OpenCLIP text encoder, SDXL's two encoders and text_time
// conditioning, run by the SDXL pipeline), and the tokenizer taken from the Hugging Face cache as diffusers fetches it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SingleFileSource, StableDiffusionPipeline } from '@sdxs/pipeline';
import { createNodeRuntime, LocalFolderSource, openSingleFile } from '@sdxs/runtime-node';
import { SafetensorsFile, type ModelSource } from '@sdxs/tensor';
import { FileByteSource } from '@sdxs/tensor/node';
import { buildSdxlFolder, type SdxlFolder } from '../../../tools/golden/build-sdxl-folder.js';
import { runCli, tempDir } from './cli-helpers.js';
import { composeGoldenFolder, linkTokenizer } from './single-file-helpers.js';

const runtime = createNodeRuntime({ intraOpThreads: 2 });

let work: { path: string; cleanup(): void };
beforeAll(() => {
  work = tempDir('sdxs-single-families-');
});
afterAll(() => work?.cleanup());

async function convert(...argv: string[]): Promise<string> {
  const r = await runCli(['convert', ...argv], { cwd: work.path });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

async function readAll(path: string): Promise<Map<string, { shape: readonly number[]; bytes: Buffer }>> {
  const file = await SafetensorsFile.open(await FileByteSource.open(path));
  try {
    return new Map([...(await file.readAll())].map(([k, t]) => [k.startsWith('text_model.') || k.startsWith('text_projection') || !path.includes('text_encoder') ? k : `text_model.${k}`, { shape: t.shape, bytes: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength) }]));
  } finally {
    await file.close();
  }
}

/** Every tensor of `want` (but `skip`) is in `got` with the same shape and bytes, and nothing else is. */
async function expectSameTensors(got: string, want: string, skip: (k: string) => boolean = () => false): Promise<void> {
  const [g, w] = [await readAll(got), await readAll(want)];
  const wanted = [...w.keys()].filter((k) => !skip(k)).sort();
  expect([...g.keys()].sort()).toEqual(wanted);
  for (const k of wanted) {
    expect(g.get(k)!.shape, k).toEqual(w.get(k)!.shape);
    expect(g.get(k)!.bytes.equals(w.get(k)!.bytes), k).toBe(true);
  }
}

const config = async (source: { readText(p: string): Promise<string> }, path: string) => JSON.parse(await source.readText(path)) as Record<string, unknown>;

describe('an SD 2.x-style checkpoint (OpenCLIP text encoder)', () => {
  it("writes OpenCLIP's layout (fused q/k/v) and reads it back to the same text encoder tensors", async () => {
    const folder = composeGoldenFolder(join(work.path, 'sd2'), 'unet-sd15', 'text-open-clip-proj');
    const file = await convert(folder, '--to', 'single-file', '--out', 'sd2.safetensors');
    const ldm = await readAll(file);
    expect(ldm.get('cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight')?.shape).toEqual([96, 32]);
    expect(ldm.get('cond_stage_model.model.positional_embedding')?.shape).toEqual([77, 32]);
    expect(ldm.get('cond_stage_model.model.text_projection')?.shape).toEqual([32, 16]);
    const source = await SingleFileSource.open(() => FileByteSource.open(file));
    expect(source.family).toBe('sd2');
    const text = await config(source, 'text_encoder/config.json');
    expect([text.hidden_act, text.architectures, text.num_hidden_layers, text.pad_token_id]).toEqual(['gelu', ['CLIPTextModel'], 3, 0]);
    // A fetched OpenCLIP tokenizer pads with "!" (id 0), whatever its repo's files say (here CLIP-L's, which pad with the end token).
    linkTokenizer(join(work.path, 'fetched-tokenizer'), 'tokenizer-clip-l');
    const fetched = new LocalFolderSource(join(work.path, 'fetched-tokenizer'));
    expect(JSON.parse(await fetched.readText('special_tokens_map.json')).pad_token).toBe('<|endoftext|>');
    const withFetched = await SingleFileSource.open(() => FileByteSource.open(file), { tokenizers: async () => [fetched] });
    expect(JSON.parse(await withFetched.readText('tokenizer/special_tokens_map.json')).pad_token).toBe('!');
    expect(JSON.parse(await withFetched.readText('tokenizer/tokenizer_config.json')).pad_token).toBe('!');
    expect(await withFetched.readText('tokenizer/merges.txt')).toBe(await fetched.readText('merges.txt'));
    // With no config, SD 2.x's tokenizer is stabilityai/stable-diffusion-2's tokenizer/ (as diffusers takes it), from the cache.
    const cache = join(work.path, 'hf-sd2');
    const snapshot = join(cache, 'models--stabilityai--stable-diffusion-2', 'snapshots', 'b'.repeat(40));
    mkdirSync(join(cache, 'models--stabilityai--stable-diffusion-2', 'refs'), { recursive: true });
    writeFileSync(join(cache, 'models--stabilityai--stable-diffusion-2', 'refs', 'main'), 'b'.repeat(40));
    linkTokenizer(join(snapshot, 'tokenizer'), 'tokenizer-open-clip');
    const cached = await openSingleFile(file, { cacheDir: cache, offline: true });
    expect(await cached.readText('tokenizer/merges.txt')).toBe(await fetched.readText('merges.txt'));
    expect(JSON.parse(await cached.readText('tokenizer/special_tokens_map.json')).pad_token).toBe('!');
    await expect(openSingleFile(file, { cacheDir: join(work.path, 'hf-empty'), offline: true })).rejects.toThrow(/stabilityai\/stable-diffusion-2's could not be had .*--config/);
    // SD 2.x runs a CLIPTextModel: like diffusers, the projection stays behind.
    const back = await convert(file, '--to', 'diffusers', '--out', 'sd2-back', '--config', folder);
    await expectSameTensors(join(back, 'text_encoder/model.safetensors'), join(folder, 'text_encoder/model.safetensors'), (k) => k.startsWith('text_projection'));
  });
});

describe('an SDXL checkpoint (the tiny SDXL folder of tools/golden)', () => {
  let sdxl: SdxlFolder;
  let file: string;
  beforeAll(async () => {
    sdxl = await buildSdxlFolder();
    file = await convert(sdxl.path, '--to', 'single-file', '--out', 'sdxl.safetensors');
  });
  afterAll(() => sdxl?.cleanup());

  it("has SDXL's LDM names: label_emb, conditioner.embedders.0 (CLIP-L) and .1 (OpenCLIP, transposed projection)", async () => {
    const ldm = await readAll(file);
    expect(ldm.get('model.diffusion_model.label_emb.0.0.weight')?.shape).toEqual([128, 64]);
    expect(ldm.has('conditioner.embedders.0.transformer.text_model.embeddings.position_embedding.weight')).toBe(true);
    expect(ldm.get('conditioner.embedders.1.model.transformer.resblocks.2.attn.in_proj_bias')?.shape).toEqual([96]);
    expect(ldm.get('conditioner.embedders.1.model.text_projection')?.shape).toEqual([32, 16]);
  });

  it('derives text_time conditioning and both text encoders from the shapes', async () => {
    const source = await SingleFileSource.open(() => FileByteSource.open(file));
    expect(source.family).toBe('sdxl');
    const [unet, want] = [await config(source, 'unet/config.json'), await config(sdxl.source, 'unet/config.json')];
    for (const f of ['block_out_channels', 'transformer_layers_per_block', 'use_linear_projection', 'cross_attention_dim', 'addition_embed_type', 'addition_time_embed_dim', 'projection_class_embeddings_input_dim', 'mid_block_type']) {
      expect([f, unet[f]]).toEqual([f, want[f]]);
    }
    const te2 = await config(source, 'text_encoder_2/config.json');
    expect([te2.architectures, te2.hidden_act, te2.projection_dim]).toEqual([['CLIPTextModelWithProjection'], 'gelu', 16]);
    expect((await config(source, 'vae/config.json')).scaling_factor).toBe(0.13025);
    expect(JSON.parse(await source.readText('model_index.json'))._class_name).toBe('StableDiffusionXLPipeline');
    expect(source.files()).toContain('tokenizer_2/vocab.json');
  });

  it("makes the folder's image, and converts back to the same tensors (the OpenCLIP projection transposed twice)", async () => {
    const generate = async (source: ModelSource) => {
      const pipe = await StableDiffusionPipeline.load(source, runtime);
      try {
        return (await pipe.generate({ prompt: 'a cat', seed: 4 })).images[0]!.data;
      } finally {
        await pipe.dispose();
      }
    };
    const reference = await generate(sdxl.source);
    expect(Buffer.from(await generate(await openSingleFile(file, { config: sdxl.path }))).equals(Buffer.from(reference))).toBe(true);
    const back = await convert(file, '--to', 'diffusers', '--out', 'sdxl-back', '--config', sdxl.path);
    for (const path of ['unet/diffusion_pytorch_model.safetensors', 'text_encoder/model.safetensors', 'text_encoder_2/model.safetensors', 'vae/diffusion_pytorch_model.safetensors']) {
      await expectSameTensors(join(back, path), join(sdxl.path, path));
    }
  });
});

describe('the tokenizer from the Hugging Face cache', () => {
  it('fromPretrained(file.safetensors) takes openai/clip-vit-large-patch14 from the cache, offline', async () => {
    const folder = composeGoldenFolder(join(work.path, 'hf-sd15'), 'unet-sd15');
    const file = await convert(folder, '--to', 'single-file', '--out', 'hf.safetensors');
    const cache = join(work.path, 'hf-cache');
    const commit = 'a'.repeat(40);
    const repo = join(cache, 'models--openai--clip-vit-large-patch14');
    mkdirSync(join(repo, 'refs'), { recursive: true });
    writeFileSync(join(repo, 'refs', 'main'), commit);
    linkTokenizer(join(repo, 'snapshots', commit), 'tokenizer-clip-l');
    const saved = { cache: process.env.HF_HUB_CACHE, offline: process.env.HF_HUB_OFFLINE };
    process.env.HF_HUB_CACHE = cache;
    process.env.HF_HUB_OFFLINE = '1';
    try {
      const fromFile = await StableDiffusionPipeline.fromPretrained(file, { device: 'cpu', cache: false });
      const fromFolder = await StableDiffusionPipeline.fromPretrained(folder, { device: 'cpu', cache: false });
      try {
        expect(fromFile.components.tokenizer.call(['a red circle']).inputIds.data).toEqual(fromFolder.components.tokenizer.call(['a red circle']).inputIds.data);
        expect(fromFile.components.source instanceof SingleFileSource && fromFile.components.source.derived).toEqual(['unet/config.json', 'vae/config.json', 'text_encoder/config.json', 'scheduler/scheduler_config.json']);
        // No config: SD's scheduler (Euler over scaled_linear betas, "leading", epsilon) and SD 1.x's sample size 64.
        expect(fromFile.components.schedulerConfig).toMatchObject({ beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012, prediction_type: 'epsilon', timestep_spacing: 'leading' });
        const image = (await fromFile.generate({ prompt: 'a red circle', seed: 5, steps: 2, guidanceScale: 0, width: 32, height: 32 })).images[0]!;
        expect([image.width, image.height]).toEqual([32, 32]);
      } finally {
        await fromFile.dispose();
        await fromFolder.dispose();
      }
    } finally {
      process.env.HF_HUB_CACHE = saved.cache;
      process.env.HF_HUB_OFFLINE = saved.offline;
      if (saved.cache === undefined) delete process.env.HF_HUB_CACHE;
      if (saved.offline === undefined) delete process.env.HF_HUB_OFFLINE;
    }
  });
});
