import { Mul } from '../ops/mul.js';
import { erfGeluDerivative, tanhGeluDerivative } from './_gelu.js';
import { inputAt, type GradFn } from './_rule.js';
import { attrOr } from './_util.js';

/** ONNX Gelu (opset 20), exact or tanh-approximated by its `approximate` attribute. */
export const geluGrad: GradFn = (args) => {
  const x = inputAt(args, 0);
  const tanh = attrOr(args.node, 'approximate', 'string', 'none') === 'tanh';
  return [() => Mul(args.dy, tanh ? tanhGeluDerivative(x) : erfGeluDerivative(x))];
};
