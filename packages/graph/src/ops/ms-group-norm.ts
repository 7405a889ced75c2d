import { attr } from '../attributes.js';
import { dimsCompatible } from '../dim.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { checkFloat } from './_helpers.js';

export interface MsGroupNormAttrs {
  groups: number;
  epsilon?: number;
  /** Fuse a SiLU after the normalization. */
  silu?: boolean;
}

/**
 * com.microsoft.GroupNorm on an NHWC tensor x [N, H, W, C] with per-channel gamma/beta [C].
 * Only the CUDA EP has a kernel in onnxruntime 1.30: the CPU EP (hence WASM) has none, and onnxruntime-node's
 * WebGPU EP had none either when measured (docs/DESIGN.md) — a graph using it elsewhere falls back or fails.
 * The kernel is channels-last, so the `groupNorm` composite wraps it in transposes for NCHW models.
 *
 * @example
 * const y = MsGroupNorm(xNhwc, gamma, beta, { groups: 32, epsilon: 1e-6 });
 */
export function MsGroupNorm(x: Value, gamma: Value, beta: Value, attrs: MsGroupNormAttrs): Value {
  const op = 'com.microsoft.GroupNorm';
  const shapes = [x.shape, gamma.shape, beta.shape];
  checkFloat(op, x);
  check(x.rank === 4, op, 'x must be NHWC [N, H, W, C]', shapes);
  const c = x.shape[3]!;
  check(gamma.rank === 1 && dimsCompatible(gamma.shape[0]!, c), op, `gamma must be [${c}]`, shapes);
  check(beta.rank === 1 && dimsCompatible(beta.shape[0]!, c), op, `beta must be [${c}]`, shapes);
  check(gamma.dtype === beta.dtype && (gamma.dtype === 'float32' || gamma.dtype === 'float16'), op, 'gamma and beta must both be float32 or float16');
  check(Number.isInteger(attrs.groups) && attrs.groups > 0, op, `groups must be a positive integer, got ${attrs.groups}`);
  check(typeof c !== 'number' || c % attrs.groups === 0, op, `${c} channels do not split into ${attrs.groups} groups`, shapes);
  const [y] = x.graph.addNode({
    opType: 'GroupNorm',
    domain: 'com.microsoft',
    inputs: [x, gamma, beta],
    attributes: {
      groups: attr.int(attrs.groups),
      epsilon: attr.float(attrs.epsilon ?? 1e-5),
      activation: attr.int(attrs.silu ? 1 : 0),
      channels_last: attr.int(1),
    },
    outputs: [{ dtype: x.dtype, shape: x.shape }],
  });
  return y!;
}
