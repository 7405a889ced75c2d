import { Add } from '../ops/add.js';
import { Erf } from '../ops/erf.js';
import { Exp } from '../ops/exp.js';
import { Mul } from '../ops/mul.js';
import { Sub } from '../ops/sub.js';
import { Tanh } from '../ops/tanh.js';
import type { Value } from '../value.js';

/** GELU'(x) = Φ(x) + x·φ(x) = ½(1 + erf(x/√2)) + x·e^(−x²/2)/√(2π). */
export function erfGeluDerivative(x: Value): Value {
  const cdf = Mul(Add(Erf(Mul(x, Math.SQRT1_2)), 1), 0.5);
  const pdf = Mul(Exp(Mul(Mul(x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
  return Add(cdf, Mul(x, pdf));
}

/**
 * The tanh approximation y = ½x(1 + t), t = tanh(c(x + 0.044715x³)), c = √(2/π):
 * y' = ½(1 + t) + ½x(1 − t²)·c(1 + 3·0.044715x²).
 */
export function tanhGeluDerivative(x: Value): Value {
  const c = Math.sqrt(2 / Math.PI);
  const x2 = Mul(x, x);
  const t = Tanh(Mul(Mul(x, Add(Mul(x2, 0.044715), 1)), c));
  const inner = Mul(Add(Mul(x2, 3 * 0.044715), 1), c);
  return Add(Mul(Add(t, 1), 0.5), Mul(Mul(Mul(x, Sub(1, Mul(t, t))), inner), 0.5));
}
