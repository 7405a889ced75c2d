import { isStatic, type Dim } from '../dim.js';
import { Cast } from '../ops/cast.js';
import { Div } from '../ops/div.js';
import { Gather } from '../ops/gather.js';
import { Shape } from '../ops/shape.js';
import type { Value } from '../value.js';
import { ProductOf } from './_raw-ops.js';
import { reduceAxes, withKeptDims } from './_reduce.js';
import { inputAt, type GradFn } from './_rule.js';
import { broadcastTo } from './_util.js';

/** The number of elements averaged: a constant when the reduced dims are known, else read at run time. */
function count(x: Value, axes: readonly number[]): number | Value {
  const dims: readonly Dim[] = axes.map((a) => x.shape[a]!);
  if (isStatic(dims)) return dims.reduce((p, d) => p * d, 1);
  return Cast(ProductOf(Gather(Shape(x), axes)), x.dtype);
}

/** d mean(x) = dy / n broadcast back over the reduced axes. */
export const reduceMeanGrad: GradFn = (args) => {
  const x = inputAt(args, 0);
  const { axes, keepdims, noop } = reduceAxes(args);
  return [() => (noop ? args.dy : broadcastTo(Div(withKeptDims(args.dy, axes, keepdims), count(x, axes)), x)), undefined];
};
