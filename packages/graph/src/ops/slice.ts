import { formatDims, type Dim } from '../dim.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { normalizeAxes } from './_axes.js';
import { freshDim } from './_fresh-dim.js';
import { int64s } from './_helpers.js';

// Bounds beyond ±(2^53 − 1), ±Infinity ("to the end") included, are sent as the largest safe integers:
// int64 constants are built from JS numbers (larger ones would wrap), and the runtime clamps any
// out-of-range bound to the dim anyway.
const toInt64Bound = (v: number): number => Math.min(Math.max(v, -Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);

/** Length of one sliced axis of known size `dim`, by the ONNX Slice clamping rules. */
function sliceLength(dim: number, start: number, end: number, step: number): number {
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
  } else {
    s = Math.min(Math.max(s, 0), dim - 1);
    e = Math.min(Math.max(e, -1), dim - 1);
  }
  return Math.max(0, Math.ceil((e - s) / step));
}

/**
 * ONNX Slice with constant bounds: for each listed axis (default: the first `starts.length` axes) take
 * `start:end:step` as Python does — negative bounds count from the end, out-of-range bounds are clamped,
 * negative steps walk backwards. `±Infinity` means "from/to the end".
 *
 * @example
 * Slice(x, [1], [Infinity], [-1]);   // x[..., 1:] on the last axis
 * Slice(x, [-1], [-Infinity], [0], [-1]); // x reversed along axis 0
 */
export function Slice(
  x: Value,
  starts: readonly number[],
  ends: readonly number[],
  axes?: readonly number[],
  steps?: readonly number[],
): Value {
  const op = 'Slice';
  const shapes = [x.shape];
  const n = starts.length;
  check(ends.length === n, op, `starts ${formatDims(starts)} and ends ${formatDims(ends)} differ in length`, shapes);
  check(!axes || axes.length === n, op, `axes ${formatDims(axes ?? [])} must have ${n} entries`, shapes);
  check(!steps || steps.length === n, op, `steps ${formatDims(steps ?? [])} must have ${n} entries`, shapes);
  const bounds = [...starts, ...ends];
  check(bounds.every((v) => Number.isInteger(v) || Math.abs(v) === Infinity), op, `bounds must be integers or ±Infinity: ${formatDims(bounds)}`);
  const ax = normalizeAxes(op, axes ?? starts.map((_, i) => i), x.rank, shapes);
  const st = steps ?? Array<number>(n).fill(1);
  check(st.every((s) => Number.isInteger(s) && s !== 0), op, `steps must be non-zero integers, got ${formatDims(st)}`, shapes);
  const shape: Dim[] = [...x.shape];
  ax.forEach((a, i) => {
    const dim = x.shape[a]!;
    const [start, end, step] = [starts[i]!, ends[i]!, st[i]!];
    if (typeof dim === 'number') shape[a] = sliceLength(dim, start, end, step);
    else if (!(start === 0 && end >= Number.MAX_SAFE_INTEGER && step === 1)) shape[a] = freshDim(x.graph, `${x.name}_slice${a}`);
  });
  const g = x.graph;
  const inputs = [x, int64s(g, starts.map(toInt64Bound), 'starts'), int64s(g, ends.map(toInt64Bound), 'ends')];
  if (axes || steps) inputs.push(int64s(g, ax, 'axes'));
  if (steps) inputs.push(int64s(g, st, 'steps'));
  const [y] = g.addNode({ opType: op, inputs, outputs: [{ dtype: x.dtype, shape }] });
  return y!;
}
