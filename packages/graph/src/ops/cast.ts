import type { DType } from '@sdxs/tensor';
import { attr } from '../attributes.js';
import { ONNX_DTYPE } from '../onnx/dtypes.js';
import type { Value } from '../value.js';

/**
 * ONNX Cast to `to` (float → int truncates toward zero; float → bool is `x != 0`).
 *
 * @example
 * Cast(mask, 'float32');
 */
export function Cast(x: Value, to: DType): Value {
  const [y] = x.graph.addNode({ opType: 'Cast', inputs: [x], attributes: { to: attr.int(ONNX_DTYPE[to]) }, outputs: [{ dtype: to, shape: x.shape }] });
  return y!;
}
