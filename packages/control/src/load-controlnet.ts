/** Loading a diffusers `controlnet/` folder: config.json → graph → weights bound by checkpoint key. */
import type { ModelSource } from '@sdxs/tensor';
import { bindComponentWeights, readComponentConfig } from '@sdxs/graph';
import { parseControlNetConfig, type ControlNetConfig } from './config.js';
import { buildControlNetGraph, type ControlNetGraph, type ControlNetGraphOptions } from './controlnet-graph.js';

export interface LoadControlNetOptions extends ControlNetGraphOptions {
  /** Prefer `diffusion_pytorch_model.<variant>.safetensors` (e.g. 'fp16'). */
  variant?: string;
}

export interface LoadedControlNet extends ControlNetGraph {
  config: ControlNetConfig;
}

/**
 * Read `<dir>/config.json` of `source`, build the ControlNet graph and bind every parameter from the folder's
 * safetensors file(s); a config sdxs cannot build, or weights that do not match it, fail here with the field or
 * tensor named.
 *
 * @example
 * const controlnet = await loadControlNet(new LocalFolderSource('./sdxs-512-dreamshaper-sketch'), '', { height: 64, width: 64, timestep: 'scalar' });
 */
export async function loadControlNet(source: ModelSource, dir: string, options: LoadControlNetOptions): Promise<LoadedControlNet> {
  const { json, where } = await readComponentConfig(source, dir);
  const config = parseControlNetConfig(json, where);
  const built = buildControlNetGraph(config, options);
  await bindComponentWeights(built.graph, source, dir, options.variant ? { variant: options.variant } : {});
  return { ...built, config };
}
