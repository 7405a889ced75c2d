/**
 * Every tensor the graphs will read, checked against the model's files without building a session: the graphs
 * are built (cheap: no weights are read), and each component's parameters are looked up in its safetensors
 * headers by the same rules a session's weights are assembled by (name, shape, a dtype the graph can take).
 * `sdxs info` runs it, so a checkpoint missing a tensor is reported there, not at the first image.
 */
import type { Graph } from '@sdxs/graph';
import { locateTensors } from '../graphs/assemble-weights.js';
import type { ComponentPrefix } from '../graphs/packed-graph.js';
import type { ComponentWeights } from './weights.js';

/** A graph to check and the components its parameters belong to (prefix → component). */
export interface GraphToCheck {
  readonly build: () => Graph;
  readonly components: readonly ComponentPrefix[];
}

/**
 * Throws the first mismatch as a CheckpointError naming the files and the tensors (missing, unexpected, of
 * another shape or dtype); resolves to the number of tensors checked.
 *
 * @example
 * await checkGraphWeights([{ build: () => decodeGraph(vae, shape, settings), components: VAE_COMPONENTS }], weights);
 */
export function checkGraphWeights(graphs: readonly GraphToCheck[], weights: Readonly<Record<string, ComponentWeights>>): number {
  let checked = 0;
  for (const { build, components } of graphs) {
    const graph = build();
    // Longest prefix first: "" (the text encoder) would otherwise claim everything.
    const ordered = [...components].sort((a, b) => b.prefix.length - a.prefix.length);
    const wanted = new Map(components.map((c) => [c.component, [] as { key: string; dtype: string; shape: number[] }[]]));
    for (const name of graph.parameterNames) {
      const init = graph.initializers.get(name)!;
      if (init.data !== undefined) continue;
      const owner = ordered.find((c) => name.startsWith(c.prefix));
      if (owner) wanted.get(owner.component)!.push({ key: name.slice(owner.prefix.length), dtype: init.dtype, shape: [...init.shape] });
    }
    for (const [component, tensors] of wanted) {
      const w = weights[component];
      if (!w) throw new Error(`the ${component} graph needs weights the pipeline has not loaded`);
      locateTensors(tensors as Parameters<typeof locateTensors>[0], w);
      checked += tensors.length;
    }
  }
  return checked;
}
