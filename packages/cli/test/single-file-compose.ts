// Diffusers folders for the single-file tests: golden components that fit together, symlinked into a temp folder.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveGoldenPath } from '../../../tools/golden/links.js';
import { GOLDEN, PIPELINE_CASE } from './cli-helpers.js';

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
export function composeGoldenFolder(dir: string, unet: 'unet-sd15' | 'unet-sdxs512'): string {
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
  link(join(GOLDEN, 'text-clip-l/config.json'), join(dir, 'text_encoder/config.json'));
  link(join(GOLDEN, 'text-clip-l/model.safetensors'), join(dir, 'text_encoder/model.safetensors'));
  for (const name of ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json']) {
    link(join(GOLDEN, 'tokenizer-clip/tokenizer-clip-l', name), join(dir, 'tokenizer', name));
  }
  write('scheduler/scheduler_config.json', EULER);
  return dir;
}
