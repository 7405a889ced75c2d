/** diffusers' `CrossAttnDownBlock2D` (diffusers/models/unets/unet_2d_blocks.py): (resnet, transformer) pairs, then a stride-2 conv. */
import type { Params, Value } from '@sdxs/graph';
import type { BlockContext, CrossAttentionSettings, DownBlockOutput } from './block-context.js';
import type { DownBlock2DOptions } from './down-block-2d.js';
import { downsample2D } from './downsample-2d.js';
import { resnetBlock2D } from './resnet-block-2d.js';
import { transformer2D } from './transformer-2d.js';

/**
 * `resnets.{i}` → `attentions.{i}` for each layer (each pair's output a skip connection), then `downsamplers.0`.
 *
 * @example
 * const { hidden, residuals } = crossAttnDownBlock2D(unet.child('down_blocks').child(1), h, ctx, { inChannels: 320, outChannels: 640, layers: 1, addDownsample: true, downsamplePadding: 1 }, attn);
 */
export function crossAttnDownBlock2D(p: Params, x: Value, ctx: BlockContext, o: DownBlock2DOptions, attn: CrossAttentionSettings): DownBlockOutput {
  const residuals: Value[] = [];
  let h = x;
  for (let i = 0; i < o.layers; i++) {
    const inChannels = i === 0 ? o.inChannels : o.outChannels;
    h = resnetBlock2D(p.child('resnets').child(i), h, ctx.tembAct, { inChannels, outChannels: o.outChannels, tembChannels: ctx.tembChannels, groups: ctx.groups, eps: ctx.eps });
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
    residuals.push(h);
  }
  if (o.addDownsample) {
    h = downsample2D(p.child('downsamplers').child(0), h, o.outChannels, o.downsamplePadding);
    residuals.push(h);
  }
  return { hidden: h, residuals };
}
