import { loweringFor } from '../lowering.js';
import { MsQuickGelu } from '../ops/ms-quick-gelu.js';
import { Mul } from '../ops/mul.js';
import { Sigmoid } from '../ops/sigmoid.js';
import { checkFloat } from '../ops/_helpers.js';
import type { Value } from '../value.js';

/**
 * SiLU (swish), x·sigmoid(x), as torch.nn.SiLU. Lowered per target (lowering.ts): `mul-sigmoid`, or
 * `contrib-quickgelu`, one com.microsoft.QuickGelu kernel with alpha 1 (QuickGelu is x·sigmoid(alpha·x)).
 *
 * @example
 * const h = silu(groupNorm(x, 32, gamma, beta));
 */
export function silu(x: Value): Value {
  checkFloat('silu', x);
  switch (loweringFor(x.graph, 'silu')) {
    case 'mul-sigmoid':
      return Mul(x, Sigmoid(x));
    case 'contrib-quickgelu':
      return MsQuickGelu(x, 1);
  }
}
