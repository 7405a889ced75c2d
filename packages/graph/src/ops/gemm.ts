import { attr, type Attributes } from '../attributes.js';
import { broadcastShapes, dimsCompatible, formatDims } from '../dim.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { checkSameDType } from './_helpers.js';

export interface GemmAttrs {
  alpha?: number;
  beta?: number;
  transA?: boolean;
  transB?: boolean;
}

/**
 * ONNX Gemm: Y = alpha·A'·B' + beta·C with A' = transA ? Aᵀ : A (2-D), likewise B'; C (optional) broadcasts
 * to [M, N]. `Gemm(x, weight, bias, { transB: true })` is PyTorch's `nn.Linear` on a 2-D batch.
 *
 * @example
 * const y = Gemm(x, w, b, { transB: true }); // x [N, in], w [out, in], b [out] -> [N, out]
 */
export function Gemm(a: Value, b: Value, c?: Value, attrs: GemmAttrs = {}): Value {
  const op = 'Gemm';
  const shapes = c ? [a.shape, b.shape, c.shape] : [a.shape, b.shape];
  checkSameDType(op, c ? [a, b, c] : [a, b]);
  check(a.rank === 2 && b.rank === 2, op, 'A and B must be 2-D', shapes);
  const [a0, a1, b0, b1] = [a.shape[0]!, a.shape[1]!, b.shape[0]!, b.shape[1]!];
  const [m, ka] = attrs.transA ? [a1, a0] : [a0, a1];
  const [kb, n] = attrs.transB ? [b1, b0] : [b0, b1];
  check(dimsCompatible(ka, kb), op, `inner dims differ (${ka} vs ${kb})`, shapes);
  if (c) {
    // C broadcasts one way only: to [M, N], never the other way round.
    const out = broadcastShapes([[m, n], c.shape]);
    check(
      c.rank <= 2 && out !== undefined && dimsCompatible(out[0]!, m) && dimsCompatible(out[1]!, n),
      op,
      `C ${formatDims(c.shape)} does not broadcast to [${m}, ${n}]`,
      shapes,
    );
  }
  const attributes: Attributes = {
    alpha: attr.float(attrs.alpha ?? 1),
    beta: attr.float(attrs.beta ?? 1),
    transA: attr.int(attrs.transA ? 1 : 0),
    transB: attr.int(attrs.transB ? 1 : 0),
  };
  const [y] = a.graph.addNode({ opType: op, inputs: c ? [a, b, c] : [a, b], attributes, outputs: [{ dtype: a.dtype, shape: [m, n] }] });
  return y!;
}
