import { attr } from '../attributes.js';
import type { Value } from '../value.js';
import { checkFloat } from './_helpers.js';

/**
 * com.microsoft.QuickGelu: x·sigmoid(alpha·x) in one kernel (alpha 1.702 is CLIP's quick GELU; alpha 1 is SiLU).
 * Kernels: CPU EP (and WASM), CUDA, native WebGPU, JSEP.
 *
 * @example
 * const y = MsQuickGelu(x, 1.702);
 */
export function MsQuickGelu(x: Value, alpha = 1.702): Value {
  checkFloat('com.microsoft.QuickGelu', x);
  const [y] = x.graph.addNode({
    opType: 'QuickGelu',
    domain: 'com.microsoft',
    inputs: [x],
    attributes: { alpha: attr.float(alpha) },
    outputs: [{ dtype: x.dtype, shape: x.shape }],
  });
  return y!;
}
