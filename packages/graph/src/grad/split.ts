import { Concat } from '../ops/concat.js';
import { outputAt, type GradFn } from './_rule.js';
import { attrOr, zerosLike } from './_util.js';

/** d split(x) = the parts' cotangents concatenated back, zeros for parts nothing downstream reads. */
export const splitGrad: GradFn = (args) => {
  const axis = attrOr(args.node, 'axis', 'int', 0);
  return [() => Concat(args.dys.map((d, i) => d ?? zerosLike(outputAt(args, i))), axis)];
};
