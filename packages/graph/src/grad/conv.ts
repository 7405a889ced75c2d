import { GraphError } from '../errors.js';
import { ConvTranspose } from '../ops/conv-transpose.js';
import { ReduceSum } from '../ops/reduce-sum.js';
import { convGeometry, convWeightGrad } from './_conv.js';
import { inputAt, type GradFn } from './_rule.js';
import { reshapeTo } from './_util.js';

/**
 * ONNX Conv. dx = ConvTranspose(dy, w) with the forward's strides, pads, dilations and groups, and the
 * output padding that restores x's size (a strided Conv maps several input sizes to one output size);
 * dw is a convolution of x with dy (see `convWeightGrad`); db sums dy over batch and space.
 */
export const convGrad: GradFn = (args) => {
  const { dy, node } = args;
  const [x, w] = [inputAt(args, 0), inputAt(args, 1)];
  const n = x.rank - 2;
  const geo = convGeometry(node, n);
  return [
    () => {
      const outputPadding = x.shape.slice(2).map((d, i) => {
        const o = dy.shape[i + 2]!;
        const k = Number(w.shape[i + 2]);
        const { strides: s, dilations: dl, pads: p } = geo;
        if (typeof d === 'number' && typeof o === 'number') return d - (s[i]! * (o - 1) + dl[i]! * (k - 1) + 1 - p[i]! - p[i + n]!);
        if (s[i] === 1) return 0;
        throw new GraphError('grad', `Conv: the input gradient of a strided convolution needs static spatial sizes, got ${x}`);
      });
      return reshapeTo(ConvTranspose(dy, w, undefined, { ...geo, outputPadding }), x);
    },
    () => convWeightGrad(x, dy, w, geo),
    () => ReduceSum(dy, [0, ...[...Array(n).keys()].map((i) => i + 2)], false),
  ];
};
