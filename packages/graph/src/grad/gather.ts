import { Cast } from '../ops/cast.js';
import { Transpose } from '../ops/transpose.js';
import { Unsqueeze } from '../ops/unsqueeze.js';
import { Gather } from '../ops/gather.js';
import { Shape } from '../ops/shape.js';
import { isStatic } from '../dim.js';
import { int64s, scalar } from '../ops/_helpers.js';
import type { Value } from '../value.js';
import { ScatterNDAdd } from './_raw-ops.js';
import { inputAt, type GradFn } from './_rule.js';
import { attrOr } from './_util.js';

/**
 * d gather(x, idx, axis) scatters dy back to the gathered rows, adding where an index repeats (a token used
 * twice in a prompt): ScatterND with reduction 'add' into zeros. ScatterND indexes the leading axis, so the
 * gathered axis is moved to the front and back. The indices have no gradient.
 */
export const gatherGrad: GradFn = (args) => {
  const x = inputAt(args, 0);
  const idx = inputAt(args, 1);
  const rawAxis = attrOr(args.node, 'axis', 'int', 0);
  const axis = rawAxis < 0 ? rawAxis + x.rank : rawAxis;
  return [
    () => {
      const g = x.graph;
      const q = idx.rank;
      // dy is x[:axis] + idx + x[axis+1:]; the scatter wants idx + x[:axis] + x[axis+1:].
      const updates =
        axis === 0 ? args.dy : Transpose(args.dy, [...[...Array(q).keys()].map((i) => i + axis), ...Array(axis).keys(), ...[...Array(x.rank - axis - 1).keys()].map((i) => i + axis + q)]);
      const front = [axis, ...[...Array(x.rank).keys()].filter((i) => i !== axis)];
      const frontShape = front.map((i) => x.shape[i]!);
      const shape: Value = isStatic(frontShape) ? int64s(g, frontShape, 'shape') : Gather(Shape(x), front);
      const [zeros] = g.addNode({ opType: 'Expand', inputs: [scalar(g, 0, x.dtype), shape], outputs: [{ dtype: x.dtype, shape: frontShape }] });
      const indices = Unsqueeze(idx.dtype === 'int64' ? idx : Cast(idx, 'int64'), [-1]);
      const scattered = ScatterNDAdd(zeros!, indices, updates);
      if (axis === 0) return scattered;
      const back = Array<number>(x.rank);
      front.forEach((p, i) => (back[p] = i));
      return Transpose(scattered, back);
    },
    undefined,
  ];
};
