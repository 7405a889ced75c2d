import { loweringFor } from '../lowering.js';
import { MsQuickGelu } from '../ops/ms-quick-gelu.js';
import { Mul } from '../ops/mul.js';
import { Sigmoid } from '../ops/sigmoid.js';
import { checkFloat } from '../ops/_helpers.js';
import type { Value } from '../value.js';

/** The constant of transformers' `QuickGELUActivation` (CLIP ViT-L/14 text encoder, `hidden_act: quick_gelu`). */
export const QUICK_GELU_ALPHA = 1.702;

/**
 * Quick GELU, x·sigmoid(1.702·x), as transformers' QuickGELUActivation. Lowered per target (lowering.ts):
 * `mul-sigmoid` or `contrib` (com.microsoft.QuickGelu).
 *
 * @example
 * const h = quickGelu(fc1Output);
 */
export function quickGelu(x: Value): Value {
  checkFloat('quickGelu', x);
  switch (loweringFor(x.graph, 'quickGelu')) {
    case 'mul-sigmoid':
      return Mul(x, Sigmoid(Mul(x, QUICK_GELU_ALPHA)));
    case 'contrib':
      return MsQuickGelu(x, QUICK_GELU_ALPHA);
  }
}
