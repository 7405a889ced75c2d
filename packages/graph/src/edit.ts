import { GraphError } from './errors.js';
import type { Graph } from './graph.js';
import type { Value } from './value.js';

/**
 * Replace every read of the value `from` by a value that `build` makes from graph inputs and initializers only
 * (a LoRA-merged weight, a cast master weight). The nodes `build` adds are moved to the front of the node list:
 * they read nothing computed, so the list stays in topological order, which `grad`'s reverse sweep relies on.
 * Graph outputs that were `from` itself are left alone.
 */
export function replaceReads(g: Graph, from: string, build: () => Value): Value {
  const start = g.nodes.length;
  const to = build();
  const added = g.nodes.splice(start);
  const computed = new Set(g.nodes.flatMap((n) => n.outputs));
  for (const n of added) {
    const late = n.inputs.find((i) => computed.has(i));
    if (late !== undefined) throw new GraphError('replaceReads', `the replacement of ${from} reads ${late}, a value computed by the graph`);
  }
  for (let i = 0; i < g.nodes.length; i++) {
    const n = g.nodes[i]!;
    if (n.inputs.includes(from)) g.nodes[i] = { ...n, inputs: n.inputs.map((x) => (x === from ? to.name : x)) };
  }
  g.nodes.unshift(...added);
  return to;
}

/** The names of the nodes that read `name`. */
export function readersOf(g: Graph, name: string): string[] {
  return g.nodes.filter((n) => n.inputs.includes(name)).map((n) => n.name);
}
