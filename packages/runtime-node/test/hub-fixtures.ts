// Repos and temporary caches shared by the hub tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytes, text, type FakeFile, type FakeRepo } from './hub-fake.js';

export const REPO = 'IDKiro/sdxs-fake';

function json(value: unknown): Uint8Array {
  return text(JSON.stringify(value));
}

/** An SDXS-shaped diffusers repo, with the extras real repos carry (pickles, ONNX, fp16 variants, a single-file checkpoint). */
export function pipelineFiles(): FakeFile[] {
  return [
    { path: '.gitattributes', content: text('*.safetensors filter=lfs\n') },
    { path: 'README.md', content: text('# sdxs fake\n') },
    {
      path: 'model_index.json',
      content: json({
        _class_name: 'StableDiffusionPipeline',
        unet: ['diffusers', 'UNet2DConditionModel'],
        vae: ['diffusers', 'AutoencoderTiny'],
        text_encoder: ['transformers', 'CLIPTextModel'],
        tokenizer: ['transformers', 'CLIPTokenizer'],
        scheduler: ['diffusers', 'EulerDiscreteScheduler'],
        safety_checker: [null, null],
        feature_extractor: ['transformers', 'CLIPImageProcessor'],
      }),
    },
    { path: 'unet/config.json', content: json({ sample_size: 64 }) },
    { path: 'unet/diffusion_pytorch_model.safetensors', content: bytes(200_000), lfs: true },
    { path: 'unet/diffusion_pytorch_model.fp16.safetensors', content: bytes(100_000), lfs: true },
    { path: 'unet/diffusion_pytorch_model.bin', content: bytes(1000), lfs: true },
    { path: 'unet/model.onnx', content: bytes(1000), lfs: true },
    { path: 'vae/config.json', content: json({ latent_channels: 4 }) },
    { path: 'vae/diffusion_pytorch_model.safetensors', content: bytes(30_000), lfs: true },
    { path: 'vae_large/config.json', content: json({ large: true }) },
    { path: 'vae_large/diffusion_pytorch_model.safetensors', content: bytes(5000), lfs: true },
    { path: 'text_encoder/config.json', content: json({ hidden_size: 32 }) },
    { path: 'text_encoder/model.safetensors', content: bytes(40_000), lfs: true },
    { path: 'text_encoder/model.fp16.safetensors', content: bytes(20_000), lfs: true },
    { path: 'text_encoder/pytorch_model.bin', content: bytes(1000), lfs: true },
    { path: 'tokenizer/vocab.json', content: json({ a: 0 }) },
    { path: 'tokenizer/merges.txt', content: text('#version: 0.2\na b\n') },
    { path: 'tokenizer/special_tokens_map.json', content: json({}) },
    { path: 'tokenizer/tokenizer_config.json', content: json({}) },
    { path: 'scheduler/scheduler_config.json', content: json({ timestep_spacing: 'trailing' }) },
    { path: 'feature_extractor/preprocessor_config.json', content: json({ crop_size: 224 }) },
    { path: 'sdxs_single_file.safetensors', content: bytes(3000), lfs: true },
    { path: 'sdxs.ckpt', content: bytes(1000), lfs: true },
  ];
}

/** What resolveModel fetches from {@link pipelineFiles} by default (no variant). */
export const DEFAULT_SELECTION = [
  'model_index.json',
  'scheduler/scheduler_config.json',
  'text_encoder/config.json',
  'text_encoder/model.safetensors',
  'tokenizer/merges.txt',
  'tokenizer/special_tokens_map.json',
  'tokenizer/tokenizer_config.json',
  'tokenizer/vocab.json',
  'unet/config.json',
  'unet/diffusion_pytorch_model.safetensors',
  'vae/config.json',
  'vae/diffusion_pytorch_model.safetensors',
];

export function pipelineRepo(extra: Partial<FakeRepo> = {}): FakeRepo {
  return { id: REPO, files: pipelineFiles(), ...extra };
}

/** A fresh temporary folder; `cleanup` removes it. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sdxs-hub-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Options pointing a download at the fake hub and a temporary cache, with nothing read from the real environment
 * (HF_HOME inside the cache: no login token of the machine's user is picked up).
 */
export function hubOptions(endpoint: string, cacheDir: string) {
  return { endpoint, cacheDir, env: { HF_HOME: join(cacheDir, 'no-hf-home') }, timeoutMs: 5000 } as const;
}
