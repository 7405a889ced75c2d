import { Add } from '../ops/add.js';
import { Mul } from '../ops/mul.js';
import { Reciprocal } from '../ops/reciprocal.js';
import { ReduceMean } from '../ops/reduce-mean.js';
import { Sqrt } from '../ops/sqrt.js';
import { Sub } from '../ops/sub.js';
import type { Value } from '../value.js';

/** x̂ = (x − mean)·rstd over `axes` (biased variance), and rstd = 1/√(var + ε): recomputed for the backward pass. */
export function standardize(x: Value, axes: readonly number[], eps: number): { xhat: Value; rstd: Value } {
  const centered = Sub(x, ReduceMean(x, axes, true));
  const rstd = Reciprocal(Sqrt(Add(ReduceMean(Mul(centered, centered), axes, true), eps)));
  return { xhat: Mul(centered, rstd), rstd };
}

/**
 * The input gradient of x̂ = standardize(x) given the cotangent `g` of x̂:
 * rstd·(g − mean(g) − x̂·mean(g·x̂)), the closed form of differentiating the mean and the variance.
 */
export function standardizeGrad(g: Value, xhat: Value, rstd: Value, axes: readonly number[]): Value {
  const meanG = ReduceMean(g, axes, true);
  const meanGx = ReduceMean(Mul(g, xhat), axes, true);
  return Mul(rstd, Sub(Sub(g, meanG), Mul(xhat, meanGx)));
}
