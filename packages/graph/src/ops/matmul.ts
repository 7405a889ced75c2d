import { broadcastShapes, dimsCompatible, formatDims, type Dim } from '../dim.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { checkSameDType } from './_helpers.js';

/** ONNX MatMul (numpy matmul: batch dims broadcast, 1-D operands promoted and the added dim removed). */
export function MatMul(a: Value, b: Value): Value {
  const op = 'MatMul';
  checkSameDType(op, [a, b]);
  check(a.rank >= 1 && b.rank >= 1, op, 'operands must have rank ≥ 1', [a.shape, b.shape]);
  const as: Dim[] = a.rank === 1 ? [1, a.shape[0]!] : [...a.shape];
  const bs: Dim[] = b.rank === 1 ? [b.shape[0]!, 1] : [...b.shape];
  const k1 = as[as.length - 1]!;
  const k2 = bs[bs.length - 2]!;
  check(dimsCompatible(k1, k2), op, `inner dims differ (${k1} vs ${k2})`, [a.shape, b.shape]);
  const batch = broadcastShapes([as.slice(0, -2), bs.slice(0, -2)]);
  check(batch !== undefined, op, `batch dims do not broadcast: ${formatDims(as.slice(0, -2))} vs ${formatDims(bs.slice(0, -2))}`);
  const shape: Dim[] = [...batch];
  if (a.rank !== 1) shape.push(as[as.length - 2]!);
  if (b.rank !== 1) shape.push(bs[bs.length - 1]!);
  const [out] = a.graph.addNode({ opType: op, inputs: [a, b], outputs: [{ dtype: a.dtype, shape }] });
  return out!;
}
