/** Loading a diffusers `unet/` folder: config.json → graph → weights bound by checkpoint key. */
import type { ModelSource } from '@sdxs/tensor';
import { bindComponentWeights, readComponentConfig } from '@sdxs/graph';
import { parseUNetConfig, type UNet2DConditionConfig } from './config.js';
import { buildUNetGraph, type UNetGraph, type UNetGraphOptions } from './unet-graph.js';

export interface LoadUNetOptions extends UNetGraphOptions {
  /** Prefer `diffusion_pytorch_model.<variant>.safetensors` (e.g. 'fp16'). */
  variant?: string;
}

export interface LoadedUNet extends UNetGraph {
  config: UNet2DConditionConfig;
}

/**
 * Read `<dir>/config.json` of `source`, build the U-Net graph and bind every parameter from the folder's safetensors
 * file(s); a config sdxs cannot build, or weights that do not match it, fail here with the field or tensor named.
 *
 * @example
 * const unet = await loadUNet(new LocalFolderSource('./sdxs-512-dreamshaper'), 'unet', { height: 64, width: 64, timestep: 'scalar' });
 * const session = await runtime.createSession(toOnnx(unet.graph));
 */
export async function loadUNet(source: ModelSource, dir = 'unet', options: LoadUNetOptions = {}): Promise<LoadedUNet> {
  const { json, where } = await readComponentConfig(source, dir);
  const config = parseUNetConfig(json, where);
  const built = buildUNetGraph(config, options);
  await bindComponentWeights(built.graph, source, dir, options.variant ? { variant: options.variant } : {});
  return { ...built, config };
}
