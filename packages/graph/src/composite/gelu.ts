import { loweringFor } from '../lowering.js';
import { Add } from '../ops/add.js';
import { Div } from '../ops/div.js';
import { Erf } from '../ops/erf.js';
import { Gelu } from '../ops/gelu.js';
import { MsFastGelu } from '../ops/ms-fast-gelu.js';
import { MsGelu } from '../ops/ms-gelu.js';
import { Mul } from '../ops/mul.js';
import { Tanh } from '../ops/tanh.js';
import { checkFloat } from '../ops/_helpers.js';
import type { Value } from '../value.js';

/** `'erf'` is the exact GELU (torch's default); `'tanh'` is torch's `approximate='tanh'` (GPT-2's "gelu_new"). */
export type GeluApproximation = 'erf' | 'tanh';

/**
 * GELU as torch.nn.functional.gelu. Lowered per target (lowering.ts): `formula` (Erf or Tanh arithmetic, in the
 * shape torch exports so onnxruntime's fusions recognise it), `contrib` (com.microsoft.Gelu / FastGelu) or
 * `onnx20` (ONNX Gelu, for graphs built with opset ≥ 20).
 *
 * @example
 * const h = gelu(x);          // exact
 * const t = gelu(x, 'tanh');  // tanh approximation
 */
export function gelu(x: Value, approximate: GeluApproximation = 'erf'): Value {
  checkFloat('gelu', x);
  const impl = loweringFor(x.graph, 'gelu');
  if (impl === 'onnx20') return Gelu(x, approximate === 'erf' ? 'none' : 'tanh');
  if (approximate === 'erf') {
    if (impl === 'contrib') return MsGelu(x);
    // 0.5·x·(1 + erf(x/√2))
    return Mul(Mul(x, Add(Erf(Div(x, Math.SQRT2)), 1)), 0.5);
  }
  if (impl === 'contrib') return MsFastGelu(x);
  // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
  const cube = Mul(Mul(x, x), x);
  const inner = Mul(Add(x, Mul(cube, 0.044715)), Math.sqrt(2 / Math.PI));
  return Mul(Mul(x, Add(Tanh(inner), 1)), 0.5);
}
