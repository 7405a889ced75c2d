import { Tensor } from '@sdxs/tensor';
import { attr, type AttrValue } from '../attributes.js';
import { formatDims, type Dim } from '../dim.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { normalizeAxes } from './_axes.js';
import { freshDim } from './_fresh-dim.js';
import { int64s } from './_helpers.js';

export interface ResizeAttrs {
  /** Scale per resized axis; output dim = floor(dim · scale). Give this or `sizes`. */
  scales?: readonly number[];
  /** Output size per resized axis. */
  sizes?: readonly number[];
  /** Axes `scales`/`sizes` refer to (default: all). An attribute from opset 18; earlier, widened with 1s / known dims. */
  axes?: readonly number[];
  /** 'nearest' (default) or 'linear' (bilinear on 4-D NCHW when only H and W are scaled). */
  mode?: 'nearest' | 'linear';
  /** How an output coordinate maps back to the input (default 'half_pixel', as in ONNX). */
  coordinateTransformationMode?: 'half_pixel' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric';
  /** How 'nearest' rounds the mapped coordinate (default 'round_prefer_floor', as in ONNX). */
  nearestMode?: 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';
}

/**
 * ONNX Resize (opset 13+ form: X, roi, scales, sizes). PyTorch's `F.interpolate` maps to:
 * mode 'nearest' = `{ mode: 'nearest', coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' }`;
 * mode 'bilinear', align_corners=False = `{ mode: 'linear' }` (half_pixel: src = (dst + 0.5) / scale − 0.5, also for
 * outputs of size 1, where 'pytorch_half_pixel' would take src = 0); align_corners=True = `'align_corners'`.
 *
 * @example
 * // The SD up-sampler: nearest ×2 on H and W.
 * Resize(x, { scales: [1, 1, 2, 2], coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' });
 */
export function Resize(x: Value, attrs: ResizeAttrs): Value {
  const op = 'Resize';
  const shapes = [x.shape];
  const g = x.graph;
  const { scales, sizes } = attrs;
  check((scales === undefined) !== (sizes === undefined), op, 'give exactly one of scales and sizes', shapes);
  const axes = normalizeAxes(op, attrs.axes ?? [...Array(x.rank).keys()], x.rank, shapes);
  const values = scales ?? sizes ?? [];
  check(values.length === axes.length, op, `${scales ? 'scales' : 'sizes'} ${formatDims(values)} need one entry per axis (${axes.length})`, shapes);
  if (scales) check(scales.every((s) => s > 0 && Number.isFinite(s)), op, `scales must be positive, got ${formatDims(scales)}`, shapes);
  if (sizes) check(sizes.every((s) => Number.isInteger(s) && s >= 0), op, `sizes must be non-negative integers, got ${formatDims(sizes)}`, shapes);
  const shape: Dim[] = [...x.shape];
  axes.forEach((a, i) => {
    const d = x.shape[a]!;
    const v = values[i]!;
    if (sizes) shape[a] = v;
    else if (v !== 1) {
      // ONNX Runtime multiplies in float32, so the floor is taken of the float32 product.
      shape[a] = typeof d === 'number' ? Math.floor(Math.fround(Math.fround(d) * Math.fround(v))) : freshDim(g, `${x.name}_resize${a}`);
    }
  });
  const attributes: Record<string, AttrValue> = {
    mode: attr.string(attrs.mode ?? 'nearest'),
    coordinate_transformation_mode: attr.string(attrs.coordinateTransformationMode ?? 'half_pixel'),
    nearest_mode: attr.string(attrs.nearestMode ?? 'round_prefer_floor'),
  };
  const partial = attrs.axes !== undefined;
  let emitted: readonly number[];
  if (partial && g.opset >= 18) {
    attributes['axes'] = attr.ints(axes);
    emitted = values;
  } else if (scales) {
    emitted = x.shape.map((_, a) => (axes.includes(a) ? scales[axes.indexOf(a)]! : 1));
  } else {
    check(
      x.shape.every((d, a) => axes.includes(a) || typeof d === 'number'),
      op,
      `sizes for some axes need the other dims known before opset 18 (or use scales), got ${formatDims(x.shape)}`,
    );
    emitted = shape.map((d) => Number(d));
  }
  const inputs = scales
    ? [x, undefined, g.constant(new Tensor('float32', [emitted.length], Float32Array.from(emitted)), 'scales')]
    : [x, undefined, undefined, int64s(g, emitted, 'sizes')];
  const [y] = g.addNode({ opType: op, inputs, attributes, outputs: [{ dtype: x.dtype, shape }] });
  return y!;
}
