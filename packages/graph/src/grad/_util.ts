import { Tensor } from '@sdxs/tensor';
import { getAttr, type AttrTypes } from '../attributes.js';
import { isStatic, type SymShape } from '../dim.js';
import { GraphError } from '../errors.js';
import type { Graph, Node } from '../graph.js';
import { int64s, scalar } from '../ops/_helpers.js';
import { Shape } from '../ops/shape.js';
import type { Value } from '../value.js';

/** The integers of a constant input (axes, pads, starts…), which a gradient needs while building. */
export function constInts(g: Graph, node: Node, input: number): number[] | undefined {
  const name = node.inputs[input];
  if (name === undefined || name === '') return undefined;
  const data = g.initializers.get(name)?.data;
  if (!(data instanceof Tensor) || (data.dtype !== 'int64' && data.dtype !== 'int32')) {
    throw new GraphError('grad', `${node.opType} node ${node.name}: input ${input} (${name}) must be a constant for its gradient`);
  }
  const out: number[] = [];
  for (const v of data.data) out.push(Number(v));
  return out;
}

/** An attribute, or `fallback` when the node does not set it. */
export function attrOr<T extends keyof AttrTypes>(node: Node, name: string, type: T, fallback: AttrTypes[T]): AttrTypes[T] {
  return getAttr(node.attributes, name, type) ?? fallback;
}

/** A shape as an int64 tensor: a constant when static, else read at run time from `like`. */
function shapeOf(g: Graph, shape: SymShape, like: Value): Value {
  // A constant target with a 0 in it would mean "copy the input dim" to Reshape, so empty tensors go by Shape.
  return isStatic(shape) && !shape.includes(0) ? int64s(g, shape, 'shape') : Shape(like);
}

/**
 * `v` (a scalar or a smaller broadcastable tensor) expanded to `like`'s shape. The declared shape is
 * `like.shape` itself, so gradients keep the symbolic dims of the values they belong to.
 */
export function broadcastTo(v: Value, like: Value): Value {
  const [out] = v.graph.addNode({ opType: 'Expand', inputs: [v, shapeOf(v.graph, like.shape, like)], outputs: [{ dtype: v.dtype, shape: like.shape }] });
  return out!;
}

/** Zeros shaped like `like` (an Expand of a scalar: nothing is stored). */
export function zerosLike(like: Value): Value {
  return broadcastTo(scalar(like.graph, 0, like.dtype), like);
}

/** `v` reshaped to `like`'s shape (same element count), declared with `like`'s dims; `v` itself when already so. */
export function reshapeTo(v: Value, like: Value): Value {
  if (v.rank === like.rank && v.shape.every((d, i) => d === like.shape[i])) return v;
  const [out] = v.graph.addNode({ opType: 'Reshape', inputs: [v, shapeOf(v.graph, like.shape, like)], outputs: [{ dtype: v.dtype, shape: like.shape }] });
  return out!;
}

/** Throw unless `shape` is static (gradients of some ops need sizes while building). */
export function staticShape(op: string, v: Value, what: string): readonly number[] {
  const s = v.shape;
  if (!isStatic(s)) throw new GraphError('grad', `${op}: the gradient needs ${what} to be static, got ${v}`);
  return s;
}
