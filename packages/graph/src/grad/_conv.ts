import type { Node } from '../graph.js';
import { GraphError } from '../errors.js';
import { Conv } from '../ops/conv.js';
import { Reshape } from '../ops/reshape.js';
import { Slice } from '../ops/slice.js';
import { Transpose } from '../ops/transpose.js';
import type { Value } from '../value.js';
import { attrOr, reshapeTo } from './_util.js';

/** A Conv or ConvTranspose node's geometry, with ONNX defaults filled in. */
export interface ConvGeometry {
  strides: number[];
  pads: number[];
  dilations: number[];
  group: number;
}

export function convGeometry(node: Node, spatialRank: number): ConvGeometry {
  const ones = Array<number>(spatialRank).fill(1);
  const autoPad = attrOr(node, 'auto_pad', 'string', 'NOTSET');
  if (autoPad !== 'NOTSET') throw new GraphError('grad', `${node.opType} node ${node.name}: auto_pad ${autoPad} has no gradient here; give explicit pads`);
  return {
    strides: [...attrOr(node, 'strides', 'ints', ones)],
    pads: [...attrOr(node, 'pads', 'ints', Array<number>(2 * spatialRank).fill(0))],
    dilations: [...attrOr(node, 'dilations', 'ints', ones)],
    group: attrOr(node, 'group', 'int', 1),
  };
}

/** Move axis 1 before axis 0 (batch ↔ channels). */
function swapFirst(v: Value): Value {
  return Transpose(v, [1, 0, ...[...Array(v.rank - 2).keys()].map((i) => i + 2)]);
}

/**
 * The weight gradient of y = Conv(x, w): dw[m, c, k] = Σₙ,ₒ dy[n, m, o]·x_padded[n, c, o·stride + k·dilation],
 * itself a convolution over the batch: x with batch and channels swapped (the channels become the batch) is
 * convolved with dy as the kernel (batch ↔ channels swapped too), stride and dilation exchanging roles. That
 * leaves the work to onnxruntime's Conv kernel (im2col + GEMM). Groups become the grouped Conv's groups:
 * x [N, g·Cg, …] → [Cg, g·N, …] and dy [N, g·Mg, …] → [g·Mg, N, …] pair group j's channels with group j's
 * outputs. The result can overshoot the kernel by a few positions (the rows a strided forward never
 * reached), which are sliced off.
 */
export function convWeightGrad(x: Value, dy: Value, w: Value, geo: ConvGeometry): Value {
  const n = x.rank - 2;
  const { group } = geo;
  let input: Value;
  let kernel: Value;
  if (group === 1) {
    input = swapFirst(x);
    kernel = swapFirst(dy);
  } else {
    const cg = Number(w.shape[1]);
    const mg = Number(w.shape[0]) / group;
    const xs = x.shape.slice(2);
    const ys = dy.shape.slice(2);
    if (![...xs, ...ys].every((d) => typeof d === 'number')) {
      throw new GraphError('grad', `Conv: the weight gradient of a grouped convolution needs static spatial sizes, got ${x} and ${dy}`);
    }
    const spatialAxes = [...Array(n).keys()].map((i) => i + 3);
    input = Reshape(Transpose(Reshape(x, [0, group, cg, ...xs.map(Number)]), [2, 1, 0, ...spatialAxes]), [cg, -1, ...xs.map(Number)]);
    kernel = Reshape(Transpose(Reshape(dy, [0, group, mg, ...ys.map(Number)]), [1, 2, 0, ...spatialAxes]), [group * mg, -1, ...ys.map(Number)]);
  }
  let dw = swapFirst(Conv(input, kernel, undefined, { strides: geo.dilations, dilations: geo.strides, pads: geo.pads, group }));
  const k = w.shape.slice(2).map(Number);
  const got = dw.shape.slice(2);
  const axes = [...Array(n).keys()].map((i) => i + 2);
  if (got.some((d, i) => d !== k[i])) dw = Slice(dw, Array<number>(n).fill(0), k, axes);
  return reshapeTo(dw, w);
}
