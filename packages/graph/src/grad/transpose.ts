import { Transpose } from '../ops/transpose.js';
import { inputAt, type GradFn } from './_rule.js';
import { attrOr } from './_util.js';

/** d transpose(x, p) = transpose(dy, p⁻¹). */
export const transposeGrad: GradFn = (args) => {
  const x = inputAt(args, 0);
  const perm = attrOr(args.node, 'perm', 'ints', [...Array(x.rank).keys()].reverse());
  const inverse = Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return [() => Transpose(args.dy, inverse)];
};
