import { GraphError } from '../errors.js';
import { Pad } from '../ops/pad.js';
import { Reshape } from '../ops/reshape.js';
import { Slice } from '../ops/slice.js';
import { Unsqueeze } from '../ops/unsqueeze.js';
import type { Value } from '../value.js';
import { inputAt, type GradFn } from './_rule.js';
import { constInts, zerosLike } from './_util.js';

/** First kept index of a slice of a dim of size `dim`, clamped as ONNX clamps it. */
function firstIndex(dim: number, start: number, step: number): number {
  const s = start < 0 ? start + dim : start;
  return step > 0 ? Math.min(Math.max(s, 0), dim) : Math.min(Math.max(s, 0), dim - 1);
}

/**
 * Put a cotangent of `count` rows taken every `step` rows from `first` back into `dim` rows, zeros
 * elsewhere, along one axis: rows are spread by padding each with step − 1 zero rows (Unsqueeze, Pad,
 * Reshape), then the whole is padded to its place.
 */
function unslice(v: Value, axis: number, dim: number, first: number, count: number, step: number): Value {
  let out = v;
  if (step > 1) {
    const shape = out.shape.map((d, i) => (i < axis ? 0 : d));
    if (!shape.every((d): d is number => typeof d === 'number')) throw new GraphError('grad', `Slice: a strided slice's gradient needs static dims from axis ${axis} on, got ${v}`);
    const spread = Pad(Unsqueeze(out, [axis + 1]), [0, step - 1], { axes: [axis + 1] });
    shape[axis] = count * step;
    out = Slice(Reshape(spread, shape), [0], [(count - 1) * step + 1], [axis]);
  }
  return Pad(out, [first, dim - first - ((count - 1) * step + 1)], { axes: [axis] });
}

/**
 * d slice(x) puts dy back where the slice took it from, zeros elsewhere, one axis at a time. Negative steps
 * reverse dy first (so its rows run upwards from the lowest index taken). The sliced axes need static sizes.
 */
export const sliceGrad: GradFn = (args) => {
  const { node, graph } = args;
  const x = inputAt(args, 0);
  return [
    () => {
      const starts = constInts(graph, node, 1) ?? [];
      const axes = (constInts(graph, node, 3) ?? starts.map((_, i) => i)).map((a) => (a < 0 ? a + x.rank : a));
      const steps = constInts(graph, node, 4) ?? starts.map(() => 1);
      let out = args.dy;
      for (const [i, axis] of axes.entries()) {
        const dim = x.shape[axis];
        const count = args.dy.shape[axis];
        if (typeof dim !== 'number' || typeof count !== 'number') throw new GraphError('grad', `Slice: the gradient needs a static size along sliced axis ${axis}, got ${x}`);
        if (count === 0) return zerosLike(x);
        let step = steps[i]!;
        let first = firstIndex(dim, starts[i]!, step);
        if (step < 0) {
          out = Slice(out, [-1], [-Infinity], [axis], [-1]);
          step = -step;
          first -= (count - 1) * step;
        }
        out = unslice(out, axis, dim, first, count, step);
      }
      return out;
    },
  ];
};
