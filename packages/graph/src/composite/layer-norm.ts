import { dimsCompatible, formatDims, normalizeAxis } from '../dim.js';
import { check } from '../errors.js';
import { loweringFor } from '../lowering.js';
import { Add } from '../ops/add.js';
import { LayerNormalization } from '../ops/layer-normalization.js';
import { Mul } from '../ops/mul.js';
import { checkFloat, checkSameDType } from '../ops/_helpers.js';
import type { Value } from '../value.js';
import { normalizeOver } from './_normalize.js';
import { floatConstant } from './_util.js';

export interface LayerNormOptions {
  /** Default 1e-5 (torch.nn.LayerNorm). */
  eps?: number;
  /** First normalized axis; default −1 (the last axis only, as every LayerNorm in the SD family). */
  axis?: number;
}

/**
 * Layer normalization as torch.nn.LayerNorm: normalize over axes [axis, rank), then `· scale + bias` (each
 * optional, shaped like those axes; `elementwise_affine=False` passes neither). Lowered per target
 * (lowering.ts): `onnx` (LayerNormalization, opset 17) or `decomposed` (ReduceMean/Sub/Mul/Sqrt).
 *
 * @example
 * const h = layerNorm(x, g.parameter('norm1.weight', 'float32', [320]), g.parameter('norm1.bias', 'float32', [320]));
 */
export function layerNorm(x: Value, scale?: Value, bias?: Value, options: LayerNormOptions = {}): Value {
  const op = 'layerNorm';
  const params = [scale, bias].filter((p): p is Value => p !== undefined);
  const shapes = [x.shape, ...params.map((p) => p.shape)];
  checkFloat(op, x);
  checkSameDType(op, [x, ...params]);
  const axis = normalizeAxis(options.axis ?? -1, x.rank);
  check(axis !== undefined, op, `axis ${options.axis} is out of range for rank ${x.rank}`, shapes);
  const normalized = x.shape.slice(axis);
  for (const p of params) {
    check(p.rank === normalized.length && p.shape.every((d, i) => dimsCompatible(d, normalized[i]!)), op, `${p.name} must be ${formatDims(normalized)}`, shapes);
  }
  const eps = options.eps ?? 1e-5;

  if (loweringFor(x.graph, 'layerNorm') === 'onnx') {
    // ONNX requires a scale; a ones constant stands in for elementwise_affine=False.
    if (scale) return LayerNormalization(x, scale, bias, { axis, epsilon: eps });
    check(normalized.every((d) => typeof d === 'number'), op, 'without a scale, the normalized dims must be static', shapes);
    return LayerNormalization(x, floatConstant(x.graph, x.dtype, normalized.map(Number), 1, 'ones'), bias, { axis, epsilon: eps });
  }
  let y = normalizeOver(x, [...Array(x.rank - axis).keys()].map((i) => axis + i), eps);
  if (scale) y = Mul(y, scale);
  if (bias) y = Add(y, bias);
  return y;
}
