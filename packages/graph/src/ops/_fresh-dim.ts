import type { Graph } from '../graph.js';

const issued = new WeakMap<Graph, Set<string>>();

/**
 * A new symbolic dim name for a size known only at run time (a slice of a symbolic dim, a Range with
 * tensor bounds). Names are unique per graph: two dim_params with one name would claim equal sizes.
 */
export function freshDim(g: Graph, base: string): string {
  let names = issued.get(g);
  if (!names) issued.set(g, (names = new Set()));
  let name = base;
  for (let i = 1; names.has(name); i++) name = `${base}_${i}`;
  names.add(name);
  return name;
}
