import { groupNorm, type Params, type Value } from '@sdxs/graph';
import { activate, isSilu, type Activation } from '../activation.js';

/** The VAE's norm epsilon: Encoder and Decoder pass resnet_eps=1e-6 and GroupNorm(eps=1e-6) everywhere. */
export const VAE_EPS = 1e-6;

/**
 * torch.nn.GroupNorm (`weight`, `bias` under `p`) followed by `act`: the norm → nonlinearity pair every
 * ResnetBlock2D and the Encoder/Decoder output head use. SiLU is fused into the norm where the target's
 * lowering can (groupNorm's `silu` option).
 */
export function groupNormAct(p: Params, x: Value, channels: number, groups: number, eps: number, act: Activation | undefined): Value {
  const fuse = act !== undefined && isSilu(act);
  const y = groupNorm(x, groups, p.param('weight', [channels]), p.param('bias', [channels]), eps, { silu: fuse });
  return act === undefined || fuse ? y : activate(y, act);
}
