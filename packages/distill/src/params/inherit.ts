import type { Graph } from '@sdxs/graph';
import type { Tensor } from '@sdxs/tensor';
import { float32Copy } from '../tensors.js';

export interface InheritReport {
  /** Parameters bound to the teacher's tensor of the same key and shape. */
  inherited: string[];
  /** Parameters the teacher lacks, or holds in another shape: left unbound (bind them, e.g. `bindRandom`). */
  fresh: string[];
}

export interface InheritOptions {
  /** The parameters' root in the graph (`teacher.`), stripped to find the teacher's key. */
  prefix?: string;
  /** Only these parameters (default: every unbound one under `prefix`). */
  select?: (name: string) => boolean;
}

/**
 * Bind every unbound parameter of `g` under `prefix` to the teacher's tensor of the same checkpoint key when the
 * shapes agree (a float32 copy): how a block-removed student starts from its teacher's remaining weights (SDXS
 * §3.2). What is left unbound is reported, so the caller can initialise it and say how much was kept.
 *
 * @example
 * const { fresh } = bindInherited(graph, teacherUNetWeights, { select: (n) => !n.startsWith('text_model.') });
 * bindRandom(graph, generator, { filter: (n) => fresh.includes(n) });
 */
export function bindInherited(g: Graph, teacher: ReadonlyMap<string, Tensor>, options: InheritOptions = {}): InheritReport {
  const { prefix = '', select = () => true } = options;
  const inherited: string[] = [];
  const fresh: string[] = [];
  for (const name of g.parameterNames) {
    const init = g.initializers.get(name)!;
    if (init.data !== undefined || !name.startsWith(prefix) || !select(name)) continue;
    const t = teacher.get(name.slice(prefix.length));
    if (t && t.shape.length === init.shape.length && t.shape.every((d, i) => d === init.shape[i])) {
      g.bind(name, float32Copy(t));
      inherited.push(name);
    } else fresh.push(name);
  }
  return { inherited, fresh };
}

/**
 * Bind every parameter under `prefix` to the tensor of its key (a frozen network copied into a training graph),
 * or throw naming what is missing or mis-shaped.
 *
 * @example
 * bindFrozen(graph, teacher.unet.weights, 'teacher.', 'teacher unet');
 */
export function bindFrozen(g: Graph, weights: ReadonlyMap<string, Tensor>, prefix: string, what: string, select?: (name: string) => boolean): void {
  const { fresh } = bindInherited(g, weights, { prefix, ...(select ? { select } : {}) });
  if (fresh.length > 0) throw new Error(`${what}: no tensor of the right shape for ${fresh.slice(0, 3).map((n) => n.slice(prefix.length)).join(', ')}${fresh.length > 3 ? ` and ${fresh.length - 3} more` : ''}`);
}
