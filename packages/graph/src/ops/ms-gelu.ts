import type { Value } from '../value.js';
import { checkFloat } from './_helpers.js';

/**
 * com.microsoft.Gelu: 0.5·x·(1 + erf(x/√2)) in one kernel. onnxruntime implements it on the CPU EP (so WASM
 * too), CUDA, the native WebGPU EP and the JS (JSEP) EP (contrib_ops/{cpu,cuda,webgpu,js} kernel registrations).
 *
 * @example
 * const y = MsGelu(x);
 */
export function MsGelu(x: Value): Value {
  checkFloat('com.microsoft.Gelu', x);
  const [y] = x.graph.addNode({ opType: 'Gelu', domain: 'com.microsoft', inputs: [x], outputs: [{ dtype: x.dtype, shape: x.shape }] });
  return y!;
}
