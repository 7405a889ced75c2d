import { attr } from '../attributes.js';
import { dimsCompatible } from '../dim.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { checkFloat, checkSameDType } from './_helpers.js';

/**
 * ONNX InstanceNormalization: x [N, C, ...spatial] normalized per (n, c) over the spatial axes, then
 * `· scale[c] + bias[c]`. Group norm lowers to it (docs/DESIGN.md, "One graph per backend").
 *
 * @example
 * const y = InstanceNormalization(x, ones, zeros, 1e-5);
 */
export function InstanceNormalization(x: Value, scale: Value, bias: Value, epsilon = 1e-5): Value {
  const op = 'InstanceNormalization';
  const shapes = [x.shape, scale.shape, bias.shape];
  checkFloat(op, x);
  checkSameDType(op, [x, scale, bias]);
  check(x.rank >= 3, op, 'x must be [N, C, ...spatial] with at least one spatial axis', shapes);
  const c = x.shape[1]!;
  check(scale.rank === 1 && dimsCompatible(scale.shape[0]!, c), op, `scale must be [${c}]`, shapes);
  check(bias.rank === 1 && dimsCompatible(bias.shape[0]!, c), op, `bias must be [${c}]`, shapes);
  const [y] = x.graph.addNode({
    opType: op,
    inputs: [x, scale, bias],
    attributes: { epsilon: attr.float(epsilon) },
    outputs: [{ dtype: x.dtype, shape: x.shape }],
  });
  return y!;
}
