import { Add } from '../ops/add.js';
import { Div } from '../ops/div.js';
import { Mul } from '../ops/mul.js';
import { ReduceMean } from '../ops/reduce-mean.js';
import { Sqrt } from '../ops/sqrt.js';
import { Sub } from '../ops/sub.js';
import type { Value } from '../value.js';

/**
 * (x − mean) / √(var + ε) over `axes`, with the biased variance (as torch's norms): the decomposed form
 * shared by group norm and layer norm, for EPs where the fused kernels are slow or missing.
 */
export function normalizeOver(x: Value, axes: readonly number[], eps: number): Value {
  const centered = Sub(x, ReduceMean(x, axes, true));
  const variance = ReduceMean(Mul(centered, centered), axes, true);
  return Div(centered, Sqrt(Add(variance, eps)));
}
