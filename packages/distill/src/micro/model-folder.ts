// Reading a trained micro model folder back (the teacher the recipe distils), as float32 weights and parsed
// configs. The files are the diffusers layout `writeMicroModel` writes; any SD 1.x-shaped folder reads alike.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCLIPTextConfig, type CLIPTextConfig } from '@sdxs/clip';
import { AutoencoderKL, type AutoencoderKLConfig } from '@sdxs/decoder';
import type { Tensor } from '@sdxs/tensor';
import { loadSafetensorsFile } from '@sdxs/tensor/node';
import { parseUNetConfig, type UNet2DConditionConfig } from '@sdxs/unet';
import { float32Copy } from '../tensors.js';

export interface Component<C> {
  config: C;
  weights: Map<string, Tensor<'float32'>>;
}

export interface MicroModel {
  dir: string;
  textEncoder: Component<CLIPTextConfig>;
  unet: Component<UNet2DConditionConfig>;
  vae: Component<AutoencoderKLConfig>;
}

async function component<C>(dir: string, sub: string, weightsFile: string, parse: (json: unknown, file: string) => C): Promise<Component<C>> {
  const configFile = join(dir, sub, 'config.json');
  const text = await readFile(configFile, 'utf8').catch(() => {
    throw new Error(`${configFile}: not found; is ${dir} a trained model folder (run \`sdxs distill teacher\`)?`);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${configFile}: not valid JSON (${(e as Error).message})`);
  }
  const config = parse(json, configFile);
  const file = join(dir, sub, weightsFile);
  const loaded = await loadSafetensorsFile(file).catch((e: Error) => {
    throw new Error(`${file}: ${e.message}`);
  });
  const weights = new Map<string, Tensor<'float32'>>();
  for (const [k, t] of loaded.tensors) weights.set(k, float32Copy(t));
  return { config, weights };
}

/**
 * Load the text encoder, U-Net and VAE of a model folder in float32 (a float16 folder is widened).
 *
 * @example
 * const teacher = await readMicroModel('runs/micro/model');
 */
export async function readMicroModel(dir: string): Promise<MicroModel> {
  return {
    dir,
    textEncoder: await component(dir, 'text_encoder', 'model.safetensors', parseCLIPTextConfig),
    unet: await component(dir, 'unet', 'diffusion_pytorch_model.safetensors', parseUNetConfig),
    vae: await component(dir, 'vae', 'diffusion_pytorch_model.safetensors', (j, f) => AutoencoderKL.fromConfig(j, f).config),
  };
}
