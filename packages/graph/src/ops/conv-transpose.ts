import { attr, type Attributes } from '../attributes.js';
import { dimsCompatible, formatDims, type Dim } from '../dim.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { checkSameDType } from './_helpers.js';
import { freshDim } from './_fresh-dim.js';

export interface ConvTransposeAttrs {
  strides?: readonly number[];
  /** ONNX order: [x1_begin, x2_begin, ..., x1_end, x2_end, ...]; they crop the full output. */
  pads?: readonly number[];
  dilations?: readonly number[];
  group?: number;
  /** Extra rows at the end of each spatial axis (each < its stride or dilation): picks one of the output sizes a strided Conv maps to the same input size. */
  outputPadding?: readonly number[];
}

/**
 * ONNX ConvTranspose, N-D: x [N, C, ...spatial], w [C, M/group, ...kernel] (a Conv weight read the other way
 * round), optional bias [M]. Output spatial size: stride·(in − 1) + output_padding + dilation·(k − 1) + 1 −
 * pad_begin − pad_end. It is Conv's input gradient, and the gradient pass uses it as such.
 *
 * @example
 * const up = ConvTranspose(x, w, b, { strides: [2, 2], pads: [1, 1, 1, 1], outputPadding: [1, 1] }); // k = 3: H → 2H
 */
export function ConvTranspose(x: Value, w: Value, b?: Value, attrs: ConvTransposeAttrs = {}): Value {
  const op = 'ConvTranspose';
  const shapes = b ? [x.shape, w.shape, b.shape] : [x.shape, w.shape];
  checkSameDType(op, b ? [x, w, b] : [x, w]);
  check(x.rank >= 3 && w.rank === x.rank, op, 'x and w must have the same rank ≥ 3', shapes);
  const n = x.rank - 2;
  const kernel = w.shape.slice(2);
  check(kernel.every((k) => typeof k === 'number'), op, 'kernel dims must be static', shapes);
  const strides = attrs.strides ?? Array<number>(n).fill(1);
  const dilations = attrs.dilations ?? Array<number>(n).fill(1);
  const pads = attrs.pads ?? Array<number>(2 * n).fill(0);
  const outputPadding = attrs.outputPadding ?? Array<number>(n).fill(0);
  const group = attrs.group ?? 1;
  check(
    strides.length === n && dilations.length === n && pads.length === 2 * n && outputPadding.length === n,
    op,
    `strides/dilations/outputPadding need ${n} values and pads ${2 * n}`,
  );
  check(Number.isInteger(group) && group >= 1, op, `group must be a positive integer, got ${group}`);
  outputPadding.forEach((p, i) =>
    check(Number.isInteger(p) && p >= 0 && p < Math.max(strides[i]!, dilations[i]!), op, `outputPadding ${formatDims(outputPadding)} must be below the stride or dilation`),
  );
  const c = x.shape[1]!;
  check(dimsCompatible(c, w.shape[0]!), op, `input channels ${c} ≠ weight dim 0 (${w.shape[0]})`, shapes);
  check(typeof c !== 'number' || c % group === 0, op, `input channels ${c} not divisible by group ${group}`, shapes);
  const perGroup = w.shape[1]!;
  const m: Dim = typeof perGroup === 'number' ? perGroup * group : freshDim(x.graph, `${x.name}_convT_channels`);
  if (b) check(b.rank === 1 && dimsCompatible(b.shape[0]!, m), op, `bias must be [${m}]`, shapes);
  const spatial: Dim[] = x.shape.slice(2).map((d, i) => {
    const k = Number(kernel[i]);
    if (typeof d !== 'number') return freshDim(x.graph, `${x.name}_convT_${i}`);
    const out = strides[i]! * (d - 1) + outputPadding[i]! + dilations[i]! * (k - 1) + 1 - pads[i]! - pads[i + n]!;
    check(out > 0, op, `pads ${formatDims(pads)} crop the whole output of ${formatDims(x.shape)}`, shapes);
    return out;
  });
  const attributes: Attributes = {
    kernel_shape: attr.ints(kernel.map(Number)),
    strides: attr.ints(strides),
    pads: attr.ints(pads),
    dilations: attr.ints(dilations),
    group: attr.int(group),
    output_padding: attr.ints(outputPadding),
  };
  const [y] = x.graph.addNode({
    opType: op,
    inputs: b ? [x, w, b] : [x, w],
    attributes,
    outputs: [{ dtype: x.dtype, shape: [x.shape[0]!, m, ...spatial] }],
  });
  return y!;
}
