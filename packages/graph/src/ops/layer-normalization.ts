import { attr } from '../attributes.js';
import { dimsCompatible, formatDims, normalizeAxis } from '../dim.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { checkFloat, checkSameDType } from './_helpers.js';

export interface LayerNormalizationAttrs {
  /** First normalized axis; the statistics run over axes [axis, rank). Default -1. */
  axis?: number;
  /** Default 1e-5, as in ONNX and torch.nn.LayerNorm. */
  epsilon?: number;
}

/**
 * ONNX LayerNormalization (opset 17): y = (x − mean) / √(var + ε) · scale + bias over axes [axis, rank).
 * `scale` (required by ONNX) and `bias` have the normalized shape `x.shape[axis:]`.
 *
 * @example
 * const y = LayerNormalization(x, g.parameter('norm.weight', 'float32', [768]), g.parameter('norm.bias', 'float32', [768]));
 */
export function LayerNormalization(x: Value, scale: Value, bias?: Value, attrs: LayerNormalizationAttrs = {}): Value {
  const op = 'LayerNormalization';
  checkFloat(op, x);
  checkSameDType(op, bias ? [x, scale, bias] : [x, scale]);
  const axis = normalizeAxis(attrs.axis ?? -1, x.rank);
  const shapes = bias ? [x.shape, scale.shape, bias.shape] : [x.shape, scale.shape];
  check(axis !== undefined, op, `axis ${attrs.axis} is out of range for rank ${x.rank}`, shapes);
  const normalized = x.shape.slice(axis);
  // ONNX lets scale/bias broadcast, but every model here passes exactly the normalized shape; insisting on it
  // catches a parameter of the wrong layer early.
  for (const p of bias ? [scale, bias] : [scale]) {
    check(
      p.rank === normalized.length && p.shape.every((d, i) => dimsCompatible(d, normalized[i]!)),
      op,
      `${p.name} must have the normalized shape ${formatDims(normalized)}`,
      shapes,
    );
  }
  const [y] = x.graph.addNode({
    opType: op,
    inputs: bias ? [x, scale, bias] : [x, scale],
    attributes: { axis: attr.int(axis), epsilon: attr.float(attrs.epsilon ?? 1e-5) },
    outputs: [{ dtype: x.dtype, shape: x.shape }],
  });
  return y!;
}
