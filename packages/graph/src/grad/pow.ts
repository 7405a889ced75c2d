import { Log } from '../ops/log.js';
import { Mul } from '../ops/mul.js';
import { Pow } from '../ops/pow.js';
import { Sub } from '../ops/sub.js';
import { reduceToShape } from './_reduce-to-shape.js';
import { inputAt, outputAt, type GradFn } from './_rule.js';

/**
 * d(aᵇ) = (dy·b·aᵇ⁻¹, dy·aᵇ·ln a). The exponent's gradient is built only when the exponent depends on
 * what is differentiated (usually it is a constant); it is NaN where a ≤ 0, as in PyTorch.
 */
export const powGrad: GradFn = (args) => {
  const [a, b] = [inputAt(args, 0), inputAt(args, 1)];
  return [() => reduceToShape(Mul(args.dy, Mul(b, Pow(a, Sub(b, 1)))), a), () => reduceToShape(Mul(Mul(args.dy, outputAt(args)), Log(a)), b)];
};
