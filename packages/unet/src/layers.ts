import { groupNorm, layerNorm, type Params, type Value } from '@sdxs/graph';

/**
 * torch.nn.GroupNorm(num_groups, channels, eps, affine=True): `weight` and `bias` [channels] under `p`.
 * `silu` fuses the SiLU that follows every norm in ResnetBlock2D where the target's kernel allows.
 *
 * @example
 * const h = groupNorm2d(resnet.child('norm1'), x, 320, 32, 1e-5, true);
 */
export function groupNorm2d(p: Params, x: Value, channels: number, groups: number, eps: number, silu = false): Value {
  return groupNorm(x, groups, p.param('weight', [channels]), p.param('bias', [channels]), eps, { silu });
}

/**
 * torch.nn.LayerNorm(dim, eps) over the last axis: `weight` and `bias` [dim] under `p`.
 *
 * @example
 * const h = layerNorm1d(block.child('norm1'), x, 320);
 */
export function layerNorm1d(p: Params, x: Value, dim: number, eps = 1e-5): Value {
  return layerNorm(x, p.param('weight', [dim]), p.param('bias', [dim]), { eps });
}
