import { GraphError } from '../errors.js';
import { Split } from '../ops/split.js';
import { inputAt, once, type GradFn } from './_rule.js';
import { attrOr } from './_util.js';

/** d concat(a, b, …) = dy split back into the parts' sizes along the axis (sizes known while building). */
export const concatGrad: GradFn = (args) => {
  const axis = attrOr(args.node, 'axis', 'int', 0);
  const parts = args.inputs.map((_, i) => inputAt(args, i));
  const sizes = parts.map((p) => p.shape[axis < 0 ? axis + p.rank : axis]);
  const split = once(() => {
    const known = sizes.filter((d): d is number => typeof d === 'number');
    if (known.length !== sizes.length) throw new GraphError('grad', `Concat: the gradient needs static sizes along axis ${axis}, got ${sizes.join(', ')}`);
    return Split(args.dy, known, axis);
  });
  return parts.map((_, i) => () => split()[i]!);
};
