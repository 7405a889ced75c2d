import { attr } from '../attributes.js';
import { formatDims, type Dim } from '../dim.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { normalizeAxes } from './_axes.js';
import { freshDim } from './_fresh-dim.js';
import { int64s, scalar } from './_helpers.js';

export interface PadAttrs {
  /** 'constant' (default), 'reflect' (mirror without the edge), 'edge' (repeat the edge), 'wrap' (opset ≥ 19). */
  mode?: 'constant' | 'reflect' | 'edge' | 'wrap';
  /** The fill value in 'constant' mode (default 0). */
  value?: number;
  /** The axes `pads` refer to (default: all). Sent as an input from opset 18; earlier, pads are widened. */
  axes?: readonly number[];
}

/**
 * ONNX Pad. `pads` is in ONNX order — all begins, then all ends: [x1_begin, x2_begin, ..., x1_end, x2_end, ...]
 * (not PyTorch's F.pad order). Negative pads crop.
 *
 * @example
 * Pad(x, [0, 0, 1, 1, 0, 0, 1, 1]);                       // NCHW, one pixel around H and W
 * Pad(x, [1, 1, 1, 1], { axes: [2, 3], mode: 'reflect' });
 */
export function Pad(x: Value, pads: readonly number[], attrs: PadAttrs = {}): Value {
  const op = 'Pad';
  const shapes = [x.shape];
  const mode = attrs.mode ?? 'constant';
  const g = x.graph;
  check(mode !== 'wrap' || g.opset >= 19, op, `mode 'wrap' needs opset 19, the graph has ${g.opset}`);
  check(attrs.value === undefined || mode === 'constant', op, `a fill value only applies to mode 'constant', not '${mode}'`);
  const axes = normalizeAxes(op, attrs.axes ?? [...Array(x.rank).keys()], x.rank, shapes);
  const n = axes.length;
  check(pads.length === 2 * n && pads.every(Number.isInteger), op, `pads ${formatDims(pads)} must be ${2 * n} integers`, shapes);
  // Pads per axis of x, widened to every axis (zeros where not listed).
  const begin = Array<number>(x.rank).fill(0);
  const end = Array<number>(x.rank).fill(0);
  axes.forEach((a, i) => {
    begin[a] = pads[i]!;
    end[a] = pads[i + n]!;
  });
  const shape: Dim[] = x.shape.map((d, a) => {
    const [b, e] = [begin[a]!, end[a]!];
    if (b === 0 && e === 0) return d;
    if (typeof d !== 'number') return freshDim(g, `${x.name}_pad${a}`);
    check(d + b + e >= 0, op, `pads ${b}, ${e} crop more than dim ${a} = ${d}`, shapes);
    // Reflection mirrors interior elements, so it cannot reach further than the dim minus the edge.
    check(mode !== 'reflect' || (b < d && e < d), op, `reflect pads ${b}, ${e} must be smaller than dim ${a} = ${d}`, shapes);
    check(mode === 'constant' || d > 0, op, `mode '${mode}' cannot pad the empty dim ${a}`, shapes);
    return d + b + e;
  });
  const withAxesInput = attrs.axes !== undefined && g.opset >= 18;
  const padsInput = withAxesInput ? int64s(g, pads, 'pads') : int64s(g, [...begin, ...end], 'pads');
  const value = attrs.value !== undefined ? scalar(g, attrs.value, x.dtype) : undefined;
  const inputs = withAxesInput ? [x, padsInput, value, int64s(g, axes, 'axes')] : value ? [x, padsInput, value] : [x, padsInput];
  const [y] = g.addNode({ opType: op, inputs, attributes: { mode: attr.string(mode) }, outputs: [{ dtype: x.dtype, shape }] });
  return y!;
}
