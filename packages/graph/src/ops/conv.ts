import { attr, type Attributes } from '../attributes.js';
import { dimsCompatible, formatDims, type Dim } from '../dim.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { checkSameDType } from './_helpers.js';
import { freshDim } from './_fresh-dim.js';

export interface ConvAttrs {
  strides?: readonly number[];
  /** ONNX order: [x1_begin, x2_begin, ..., x1_end, x2_end, ...]. */
  pads?: readonly number[];
  dilations?: readonly number[];
  group?: number;
}

/**
 * ONNX Conv, N-D (the SD family uses 2-D): x [N, C, ...spatial], w [M, C/group, ...kernel], optional bias [M].
 * Output spatial size: floor((in + pad_begin + pad_end − dilation·(k−1) − 1) / stride) + 1.
 */
export function Conv(x: Value, w: Value, b?: Value, attrs: ConvAttrs = {}): Value {
  const op = 'Conv';
  const shapes = b ? [x.shape, w.shape, b.shape] : [x.shape, w.shape];
  checkSameDType(op, b ? [x, w, b] : [x, w]);
  check(x.rank >= 3 && w.rank === x.rank, op, 'x and w must have the same rank ≥ 3', shapes);
  const n = x.rank - 2;
  const kernel = w.shape.slice(2);
  const strides = attrs.strides ?? Array<number>(n).fill(1);
  const dilations = attrs.dilations ?? Array<number>(n).fill(1);
  const pads = attrs.pads ?? Array<number>(2 * n).fill(0);
  const group = attrs.group ?? 1;
  check(strides.length === n && dilations.length === n && pads.length === 2 * n, op, `strides/dilations need ${n} values and pads ${2 * n}`);
  const c = x.shape[1]!;
  const m = w.shape[0]!;
  check(
    typeof c !== 'number' || typeof w.shape[1] !== 'number' || c === w.shape[1] * group,
    op,
    `input channels ${c} ≠ weight channels ${w.shape[1]} × group ${group}`,
    shapes,
  );
  check(typeof m !== 'number' || m % group === 0, op, `output channels ${m} not divisible by group ${group}`, shapes);
  if (b) check(b.rank === 1 && dimsCompatible(b.shape[0]!, m), op, `bias must be [${m}]`, shapes);
  const spatial: Dim[] = x.shape.slice(2).map((d, i) => {
    const k = kernel[i]!;
    if (typeof d !== 'number' || typeof k !== 'number') return freshDim(x.graph, `${x.name}_conv_${i}`);
    const out = Math.floor((d + pads[i]! + pads[i + n]! - dilations[i]! * (k - 1) - 1) / strides[i]!) + 1;
    check(out > 0, op, `kernel ${formatDims(kernel)} does not fit input ${formatDims(x.shape)} with pads ${formatDims(pads)}`);
    return out;
  });
  const attributes: Attributes = {
    kernel_shape: attr.ints(kernel.map((k) => Number(k))),
    strides: attr.ints(strides),
    pads: attr.ints(pads),
    dilations: attr.ints(dilations),
    group: attr.int(group),
  };
  check(kernel.every((k) => typeof k === 'number'), op, 'kernel dims must be static', shapes);
  const [y] = x.graph.addNode({
    opType: op,
    inputs: b ? [x, w, b] : [x, w],
    attributes,
    outputs: [{ dtype: x.dtype, shape: [x.shape[0]!, m, ...spatial] }],
  });
  return y!;
}
