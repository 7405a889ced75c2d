// The micro model as an ordinary diffusers folder (StableDiffusionPipeline), float16, written atomically.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CLIPTextConfig } from '@sdxs/clip';
import type { AutoencoderKLConfig } from '@sdxs/decoder';
import { castTensor, type Tensor } from '@sdxs/tensor';
import type { UNet2DConditionConfig } from '@sdxs/unet';
import { MICRO_SCHEDULER } from './configs.js';
import { writeComponentFolder } from './folders.js';
import type { BuiltVocabulary } from '@sdxs/clip';

export interface MicroModelParts {
  tokenizer: BuiltVocabulary;
  textEncoder: { config: CLIPTextConfig; weights: ReadonlyMap<string, Tensor> };
  unet: { config: UNet2DConditionConfig; weights: ReadonlyMap<string, Tensor> };
  vae: { config: AutoencoderKLConfig; weights: ReadonlyMap<string, Tensor> };
  /** Weights dtype in the folder (default float16, what ships). */
  dtype?: 'float16' | 'float32';
}

export const DIFFUSERS_VERSION = '0.31.0';

/** Every tensor of `weights` in `dtype` (the folder's). */
export function castWeights(weights: ReadonlyMap<string, Tensor>, dtype: 'float16' | 'float32'): Map<string, Tensor> {
  return new Map([...weights].map(([k, t]) => [k, castTensor(t, dtype)]));
}

/**
 * Write `dir` as a StableDiffusionPipeline folder: model_index.json, tokenizer/, text_encoder/, unet/, vae/,
 * scheduler/ — what diffusers' `from_pretrained` and this project's pipeline load unchanged.
 */
export async function writeMicroModel(dir: string, p: MicroModelParts): Promise<void> {
  const dtype = p.dtype ?? 'float16';
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const json = (o: unknown) => JSON.stringify(o, null, 2) + '\n';
  await writeFile(
    join(tmp, 'model_index.json'),
    json({
      _class_name: 'StableDiffusionPipeline',
      _diffusers_version: DIFFUSERS_VERSION,
      feature_extractor: [null, null],
      image_encoder: [null, null],
      requires_safety_checker: false,
      safety_checker: [null, null],
      scheduler: ['diffusers', MICRO_SCHEDULER._class_name],
      text_encoder: ['transformers', 'CLIPTextModel'],
      tokenizer: ['transformers', 'CLIPTokenizer'],
      unet: ['diffusers', 'UNet2DConditionModel'],
      vae: ['diffusers', 'AutoencoderKL'],
    }),
  );
  await mkdir(join(tmp, 'tokenizer'));
  await writeFile(join(tmp, 'tokenizer', 'vocab.json'), p.tokenizer.vocab);
  await writeFile(join(tmp, 'tokenizer', 'merges.txt'), p.tokenizer.merges);
  await writeFile(join(tmp, 'tokenizer', 'tokenizer_config.json'), p.tokenizer.tokenizerConfig + '\n');
  await mkdir(join(tmp, 'scheduler'));
  await writeFile(join(tmp, 'scheduler', 'scheduler_config.json'), json({ ...MICRO_SCHEDULER, _diffusers_version: DIFFUSERS_VERSION }));
  await writeComponentFolder(join(tmp, 'text_encoder'), { ...p.textEncoder.config, torch_dtype: dtype, transformers_version: '4.46.0' }, castWeights(p.textEncoder.weights, dtype), 'model.safetensors');
  await writeComponentFolder(join(tmp, 'unet'), { _class_name: 'UNet2DConditionModel', _diffusers_version: DIFFUSERS_VERSION, ...p.unet.config }, castWeights(p.unet.weights, dtype), 'diffusion_pytorch_model.safetensors');
  await writeComponentFolder(join(tmp, 'vae'), { _class_name: 'AutoencoderKL', _diffusers_version: DIFFUSERS_VERSION, ...p.vae.config }, castWeights(p.vae.weights, dtype), 'diffusion_pytorch_model.safetensors');
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
}
