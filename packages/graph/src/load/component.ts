import type { ModelSource } from '@sdxs/tensor';
import type { Graph } from '../graph.js';
import { bindCheckpoint, type BindOptions } from './bind-checkpoint.js';
import { openWeightFiles, type WeightFileOptions } from './weight-files.js';

/**
 * A component folder's parsed `config.json` (`<dir>/config.json` of `source`) and the name to use for it in
 * errors (`<source id>/<dir>/config.json`); unreadable or malformed JSON is an error naming the file.
 */
export async function readComponentConfig(source: ModelSource, dir: string): Promise<{ json: unknown; where: string }> {
  const path = dir ? `${dir}/config.json` : 'config.json';
  const where = `${source.id}/${path}`;
  try {
    return { json: JSON.parse(await source.readText(path)), where };
  } catch (e) {
    throw new Error(`${where}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Bind every parameter of `graph` from the safetensors file(s) of a component folder (single, variant or sharded),
 * closing the files afterwards.
 *
 * @example
 * await bindComponentWeights(graph, source, 'unet', { variant: 'fp16' });
 */
export async function bindComponentWeights(
  graph: Graph,
  source: ModelSource,
  dir: string,
  options: WeightFileOptions & BindOptions = {},
): Promise<void> {
  const { variant, ...bind } = options;
  const files = await openWeightFiles(source, dir, variant ? { variant } : {});
  try {
    await bindCheckpoint(graph, files, bind);
  } finally {
    await Promise.all(files.map((f) => f.close()));
  }
}
