import type { Graph, Node } from '../graph.js';
import { GraphError } from '../errors.js';
import type { Value } from '../value.js';

/** What a gradient rule sees of one forward node (tfjs's `gradFunc` arguments). */
export interface GradArgs {
  readonly graph: Graph;
  readonly node: Node;
  /** The node's inputs; undefined where an optional input was left out. */
  readonly inputs: readonly (Value | undefined)[];
  readonly outputs: readonly Value[];
  /** Cotangent of each output; undefined where nothing on the way to the loss reads that output. */
  readonly dys: readonly (Value | undefined)[];
  /** Cotangent of the first output (every single-output node that is visited has one). */
  readonly dy: Value;
}

/** A gradient to be built only if the backward pass needs it (frozen weights never get theirs built). */
export type LazyGrad = () => Value;

/** A rule maps the output cotangents to one lazy gradient per input (undefined: not differentiable there). */
export type GradFn = (args: GradArgs) => readonly (LazyGrad | undefined)[];

/**
 * A map entry: a rule, `'none'` for ops whose outputs carry no gradient (Equal, Shape, ArgMax…), or an
 * `unsupported` note telling the user how to build a graph without the op (fused kernels whose backward is
 * not written, e.g. com.microsoft.MultiHeadAttention).
 */
export type GradRule = GradFn | 'none' | { readonly unsupported: string };

/** The i-th input of the node, which the rule requires to be present. */
export function inputAt(args: GradArgs, i: number): Value {
  const v = args.inputs[i];
  if (v === undefined) throw new GraphError('grad', `${args.node.opType} node ${args.node.name} has no input ${i}`);
  return v;
}

/** The first output. */
export function outputAt(args: GradArgs, i = 0): Value {
  const v = args.outputs[i];
  if (v === undefined) throw new GraphError('grad', `${args.node.opType} node ${args.node.name} has no output ${i}`);
  return v;
}

/** Memoize a builder so two input gradients can share intermediate nodes (e.g. x̂ in a normalization). */
export function once<T>(build: () => T): () => T {
  let cached: { value: T } | undefined;
  return () => (cached ??= { value: build() }).value;
}
