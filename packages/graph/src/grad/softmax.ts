import { Mul } from '../ops/mul.js';
import { ReduceSum } from '../ops/reduce-sum.js';
import { Sub } from '../ops/sub.js';
import { outputAt, type GradFn } from './_rule.js';
import { attrOr } from './_util.js';

/** d softmax(x) = y·(dy − Σ(dy·y)) along the softmax axis. */
export const softmaxGrad: GradFn = (args) => {
  const y = outputAt(args);
  const axis = attrOr(args.node, 'axis', 'int', -1);
  return [() => Mul(y, Sub(args.dy, ReduceSum(Mul(args.dy, y), [axis], true)))];
};
