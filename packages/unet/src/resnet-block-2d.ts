/** diffusers' `ResnetBlock2D` (diffusers/models/resnet.py) with `time_embedding_norm="default"`, pre-norm, SiLU. */
import { Add, conv2d, Div, linear, Unsqueeze, type Params, type Value } from '@sdxs/graph';
import { groupNorm2d } from './layers.js';

export interface ResnetBlock2DOptions {
  inChannels: number;
  outChannels: number;
  /** Width of the time embedding (`temb_channels`). */
  tembChannels: number;
  groups: number;
  eps: number;
  /** The sum is divided by it (`output_scale_factor`; the mid block's `mid_block_scale_factor`). */
  outputScaleFactor?: number;
}

/**
 * norm1 → SiLU → conv1 → + time_emb_proj(SiLU(temb)) → norm2 → SiLU → conv2, plus the input (through a 1×1
 * `conv_shortcut` when the channel count changes). `tembAct` is the time embedding *after* the SiLU: every
 * ResnetBlock2D applies the same SiLU to the same embedding, so the U-Net computes it once and shares it.
 *
 * @example
 * const h = resnetBlock2D(block.child('resnets').child(0), x, siluTemb, { inChannels: 320, outChannels: 640, tembChannels: 1280, groups: 32, eps: 1e-5 });
 */
export function resnetBlock2D(p: Params, x: Value, tembAct: Value, o: ResnetBlock2DOptions): Value {
  return p.scoped(() => {
    let h = groupNorm2d(p.child('norm1'), x, o.inChannels, o.groups, o.eps, true);
    h = conv2d(p.child('conv1'), h, o.inChannels, o.outChannels, 3, { padding: 1 });
    // [B, out] → [B, out, 1, 1], broadcast over H and W.
    const t = Unsqueeze(linear(p.child('time_emb_proj'), tembAct, o.tembChannels, o.outChannels), [2, 3]);
    h = groupNorm2d(p.child('norm2'), Add(h, t), o.outChannels, o.groups, o.eps, true);
    h = conv2d(p.child('conv2'), h, o.outChannels, o.outChannels, 3, { padding: 1 });
    const shortcut = o.inChannels === o.outChannels ? x : conv2d(p.child('conv_shortcut'), x, o.inChannels, o.outChannels, 1);
    const sum = Add(shortcut, h);
    const scale = o.outputScaleFactor ?? 1;
    return scale === 1 ? sum : Div(sum, scale);
  });
}
