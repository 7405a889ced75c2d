import { withKeptDims, reduceAxes } from './_reduce.js';
import { inputAt, type GradFn } from './_rule.js';
import { broadcastTo } from './_util.js';

/** d Σx = dy broadcast back over the reduced axes. */
export const reduceSumGrad: GradFn = (args) => {
  const x = inputAt(args, 0);
  const { axes, keepdims, noop } = reduceAxes(args);
  return [() => (noop ? args.dy : broadcastTo(withKeptDims(args.dy, axes, keepdims), x)), undefined];
};
