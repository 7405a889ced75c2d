/** diffusers' `UNetMidBlock2DCrossAttn` (diffusers/models/unets/unet_2d_blocks.py): resnet, then (transformer, resnet) pairs. */
import type { Params, Value } from '@sdxs/graph';
import type { BlockContext, CrossAttentionSettings } from './block-context.js';
import { resnetBlock2D } from './resnet-block-2d.js';
import { transformer2D } from './transformer-2d.js';

export interface MidBlock2DCrossAttnOptions {
  channels: number;
  /** (transformer, resnet) pairs after the first resnet; the U-Net builds one. */
  layers?: number;
  /** Every resnet divides its sum by it (`mid_block_scale_factor`). */
  outputScaleFactor: number;
}

/**
 * `resnets.0` → (`attentions.{i}` → `resnets.{i+1}`), channels unchanged. diffusers never passes
 * `only_cross_attention` to this block: its transformers always self-attend first.
 *
 * @example
 * const h = midBlock2DCrossAttn(unet.child('mid_block'), x, ctx, { channels: 1280, outputScaleFactor: 1 }, attn);
 */
export function midBlock2DCrossAttn(p: Params, x: Value, ctx: BlockContext, o: MidBlock2DCrossAttnOptions, attn: CrossAttentionSettings): Value {
  const resnet = (i: number, h: Value) =>
    resnetBlock2D(p.child('resnets').child(i), h, ctx.tembAct, {
      inChannels: o.channels,
      outChannels: o.channels,
      tembChannels: ctx.tembChannels,
      groups: ctx.groups,
      eps: ctx.eps,
      outputScaleFactor: o.outputScaleFactor,
    });
  let h = resnet(0, x);
  for (let i = 0; i < (o.layers ?? 1); i++) {
    h = transformer2D(p.child('attentions').child(i), h, attn.context, {
      channels: o.channels,
      heads: attn.heads,
      crossAttentionDim: attn.crossAttentionDim,
      layers: attn.transformerLayers[i]!,
      groups: ctx.groups,
      useLinearProjection: attn.useLinearProjection,
      onlyCrossAttention: false,
      upcastAttention: attn.upcastAttention,
    });
    h = resnet(i + 1, h);
  }
  return h;
}
