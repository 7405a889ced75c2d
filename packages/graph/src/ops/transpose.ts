import { formatDims } from '../dim.js';
import { check } from '../errors.js';
import { attr } from '../attributes.js';
import type { Value } from '../value.js';

/** ONNX Transpose; `perm` defaults to reversing the axes. */
export function Transpose(x: Value, perm?: readonly number[]): Value {
  const op = 'Transpose';
  const p = perm ?? [...Array(x.rank).keys()].reverse();
  const sorted = [...p].sort((a, b) => a - b);
  check(p.length === x.rank && sorted.every((v, i) => v === i), op, `perm ${formatDims(p)} is not a permutation of rank ${x.rank}`, [x.shape]);
  const shape = p.map((i) => x.shape[i]!);
  const [y] = x.graph.addNode({ opType: op, inputs: [x], attributes: { perm: attr.ints(p) }, outputs: [{ dtype: x.dtype, shape }] });
  return y!;
}
