import { Add } from '../ops/add.js';
import { MatMul } from '../ops/matmul.js';
import { Transpose } from '../ops/transpose.js';
import type { Params } from '../params.js';
import type { Value } from '../value.js';
import { check } from '../errors.js';

/**
 * torch.nn.Linear: y = x·Wᵀ + b over the last axis, with `weight` [out, in] and `bias` [out] under `p`.
 * The weight is stored as the checkpoint has it ([out, in]) and transposed in the graph, where ONNX
 * Runtime folds the transpose of a constant initializer at session creation.
 */
export function linear(p: Params, x: Value, inFeatures: number, outFeatures: number, bias = true): Value {
  const last = x.shape[x.rank - 1];
  check(last === undefined || typeof last === 'string' || last === inFeatures, 'Linear', `${p.prefix}: input has ${String(last)} features, expected ${inFeatures}`, [x.shape]);
  const w = p.param('weight', [outFeatures, inFeatures]);
  let y = MatMul(x, Transpose(w, [1, 0]));
  if (bias) y = Add(y, p.param('bias', [outFeatures]));
  return y;
}

