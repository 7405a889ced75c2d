import { dimsCompatible } from '../dim.js';
import { check } from '../errors.js';
import { loweringFor } from '../lowering.js';
import { Add } from '../ops/add.js';
import { InstanceNormalization } from '../ops/instance-normalization.js';
import { MsGroupNorm } from '../ops/ms-group-norm.js';
import { Mul } from '../ops/mul.js';
import { Reshape } from '../ops/reshape.js';
import { Transpose } from '../ops/transpose.js';
import { checkFloat, checkSameDType } from '../ops/_helpers.js';
import type { Value } from '../value.js';
import { normalizeOver } from './_normalize.js';
import { silu } from './silu.js';
import { floatConstant, perChannel, reshapeLike } from './_util.js';

export interface GroupNormOptions {
  /** Apply SiLU to the result (diffusers' ResnetBlock2D does norm → SiLU); fused where the kernel allows. */
  silu?: boolean;
}

/**
 * Group normalization over NCHW (any rank ≥ 3), as torch.nn.GroupNorm / diffusers: channels split into
 * `numGroups` groups, each normalized over its channels and all spatial positions, then `· scale[c] + bias[c]`.
 * Lowered per target (lowering.ts): `instance-norm` (Reshape [N, G, −1] → InstanceNormalization → Reshape →
 * affine), `decomposed` (ReduceMean/Sub/Mul/Sqrt) or `contrib-nhwc` (Transpose → com.microsoft.GroupNorm →
 * Transpose; CUDA only, and it needs rank 4).
 *
 * @example
 * const h = groupNorm(x, 32, g.parameter('norm1.weight', 'float32', [320]), g.parameter('norm1.bias', 'float32', [320]), 1e-5, { silu: true });
 */
export function groupNorm(x: Value, numGroups: number, scale: Value | undefined, bias: Value | undefined, eps = 1e-5, options: GroupNormOptions = {}): Value {
  const op = 'groupNorm';
  const params = [scale, bias].filter((p): p is Value => p !== undefined);
  const shapes = [x.shape, ...params.map((p) => p.shape)];
  checkFloat(op, x);
  checkSameDType(op, [x, ...params]);
  check(x.rank >= 3, op, 'x must be [N, C, ...spatial]', shapes);
  const c = x.shape[1]!;
  check(typeof c === 'number', op, 'the channel count must be static', shapes);
  check(Number.isInteger(numGroups) && numGroups > 0 && c % numGroups === 0, op, `${c} channels do not split into ${numGroups} groups`, shapes);
  for (const p of params) check(p.rank === 1 && dimsCompatible(p.shape[0]!, c), op, `${p.name} must be [${c}]`, shapes);

  const impl = loweringFor(x.graph, 'groupNorm');
  if (impl === 'contrib-nhwc') {
    check(x.rank === 4, op, 'contrib-nhwc (com.microsoft.GroupNorm) needs a 4-D NCHW input', shapes);
    const gamma = scale ?? floatConstant(x.graph, x.dtype, [c], 1, 'ones');
    const beta = bias ?? floatConstant(x.graph, x.dtype, [c], 0, 'zeros');
    const y = MsGroupNorm(Transpose(x, [0, 2, 3, 1]), gamma, beta, { groups: numGroups, epsilon: eps, silu: options.silu ?? false });
    return Transpose(y, [0, 3, 1, 2]);
  }

  // Both remaining forms normalize [N, G, C/G·spatial] over its last axis.
  const grouped = Reshape(x, [0, numGroups, -1]);
  const normalized =
    impl === 'instance-norm'
      ? InstanceNormalization(grouped, floatConstant(x.graph, x.dtype, [numGroups], 1, 'ones'), floatConstant(x.graph, x.dtype, [numGroups], 0, 'zeros'), eps)
      : normalizeOver(grouped, [2], eps);
  let y = reshapeLike(normalized, x);
  if (scale) y = Mul(y, perChannel(scale, x.rank));
  if (bias) y = Add(y, perChannel(bias, x.rank));
  return options.silu ? silu(y) : y;
}
