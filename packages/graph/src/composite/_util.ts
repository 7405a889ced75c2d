import { allocData, isFloatDType, numberToBfloat16Bits, numberToFloat16Bits, Tensor, type DType } from '@sdxs/tensor';
import { isStatic } from '../dim.js';
import { check } from '../errors.js';
import type { Graph } from '../graph.js';
import { Reshape } from '../ops/reshape.js';
import { Shape } from '../ops/shape.js';
import type { Value } from '../value.js';

/**
 * A float constant of `shape` in `dtype` (half types stored as bits): every element `value`, or element i
 * `value[i]` when an array is given.
 */
export function floatConstant(g: Graph, dtype: DType, shape: readonly number[], value: number | ArrayLike<number>, name = 'const'): Value {
  check(isFloatDType(dtype), 'constant', `${dtype} is not a float dtype`);
  const n = shape.reduce((a, b) => a * b, 1);
  const at = typeof value === 'number' ? () => value : (i: number) => value[i]!;
  const data = allocData(dtype, n);
  const convert = dtype === 'float16' ? numberToFloat16Bits : dtype === 'bfloat16' ? numberToBfloat16Bits : (v: number) => v;
  for (let i = 0; i < n; i++) data[i] = convert(at(i));
  return g.constant(new Tensor(dtype, shape, data), name);
}

/**
 * Reshape `y` back to the shape of `like` (same element count). A constant target shape when `like`'s dims
 * past the first are known (the first, the batch, is copied with 0); otherwise Shape(like) at run time.
 */
export function reshapeLike(y: Value, like: Value): Value {
  const rest = like.shape.slice(1);
  if (isStatic(rest)) return Reshape(y, [0, ...rest]);
  const [out] = y.graph.addNode({ opType: 'Reshape', inputs: [y, Shape(like)], outputs: [{ dtype: y.dtype, shape: like.shape }] });
  return out!;
}

/** A per-channel vector [C] viewed as [C, 1, …, 1] so it broadcasts over an [N, C, ...spatial] tensor of `rank`. */
export function perChannel(v: Value, rank: number): Value {
  return Reshape(v, [-1, ...Array<number>(rank - 2).fill(1)]);
}
