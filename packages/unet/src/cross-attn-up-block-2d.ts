/** diffusers' `CrossAttnUpBlock2D` (diffusers/models/unets/unet_2d_blocks.py): (resnet on [h, skip], transformer) pairs, then nearest ×2 + conv. */
import { Concat, type Params, type Value } from '@sdxs/graph';
import type { BlockContext, CrossAttentionSettings } from './block-context.js';
import { resnetBlock2D } from './resnet-block-2d.js';
import { transformer2D } from './transformer-2d.js';
import { upResnetInChannels, type UpBlock2DOptions } from './up-block-2d.js';
import { upsample2D } from './upsample-2d.js';

/**
 * For each layer: concatenate the last remaining skip, `resnets.{i}`, `attentions.{i}`; then `upsamplers.0`.
 *
 * @example
 * const h = crossAttnUpBlock2D(unet.child('up_blocks').child(1), x, skips, ctx, { inChannels: 640, prevOutputChannels: 1280, outChannels: 1280, layers: 2, addUpsample: true }, attn);
 */
export function crossAttnUpBlock2D(p: Params, x: Value, skips: readonly Value[], ctx: BlockContext, o: UpBlock2DOptions, attn: CrossAttentionSettings): Value {
  let h = x;
  for (let i = 0; i < o.layers; i++) {
    const skip = skips[skips.length - 1 - i]!;
    h = resnetBlock2D(p.child('resnets').child(i), Concat([h, skip], 1), ctx.tembAct, {
      inChannels: upResnetInChannels(o, i),
      outChannels: o.outChannels,
      tembChannels: ctx.tembChannels,
      groups: ctx.groups,
      eps: ctx.eps,
    });
    h = transformer2D(p.child('attentions').child(i), h, attn.context, {
      channels: o.outChannels,
      heads: attn.heads,
      crossAttentionDim: attn.crossAttentionDim,
      layers: attn.transformerLayers[i]!,
      groups: ctx.groups,
      useLinearProjection: attn.useLinearProjection,
      onlyCrossAttention: attn.onlyCrossAttention,
      upcastAttention: attn.upcastAttention,
    });
  }
  return o.addUpsample ? upsample2D(p.child('upsamplers').child(0), h, o.outChannels, o.upsampleSize) : h;
}
