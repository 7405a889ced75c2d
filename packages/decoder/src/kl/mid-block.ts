// diffusers.models.unets.unet_2d_blocks.UNetMidBlock2D as the VAE builds it (no time embedding,
// resnet_time_scale_shift "default", output_scale_factor 1).
import type { Params, Value } from '@sdxs/graph';
import type { Activation } from '../activation.js';
import { attentionBlock } from './attention-block.js';
import { resnetBlock2D } from './resnet-block.js';

export interface UNetMidBlock2DOptions {
  channels: number;
  groups: number;
  eps: number;
  actFn: Activation;
  /** Attention layers, each followed by a resnet (diffusers' `num_layers`, 1 in the VAE). */
  numLayers?: number;
  addAttention: boolean;
  /** Channels per attention head (the VAE passes its width: one head). */
  attentionHeadDim: number;
}

/**
 * UNetMidBlock2D: `resnets.0`, then per layer `attentions.i` (unless add_attention is false) and `resnets.i+1`.
 * The attention's group norm uses the resnets' groups and eps.
 *
 * @example
 * const h = uNetMidBlock2D(decoder.child('mid_block'), x, { channels: 512, groups: 32, eps: 1e-6, actFn: 'silu', addAttention: true, attentionHeadDim: 512 });
 */
export function uNetMidBlock2D(p: Params, x: Value, o: UNetMidBlock2DOptions): Value {
  const c = o.channels;
  const resnet = (i: number, h: Value) => resnetBlock2D(p.child('resnets').child(i), h, { inChannels: c, outChannels: c, groups: o.groups, eps: o.eps, actFn: o.actFn });
  let h = resnet(0, x);
  for (let i = 0; i < (o.numLayers ?? 1); i++) {
    if (o.addAttention) h = attentionBlock(p.child('attentions').child(i), h, { channels: c, groups: o.groups, eps: o.eps, headDim: o.attentionHeadDim });
    h = resnet(i + 1, h);
  }
  return h;
}
