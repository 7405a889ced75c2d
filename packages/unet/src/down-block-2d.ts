/** diffusers' `DownBlock2D` (diffusers/models/unets/unet_2d_blocks.py): resnets, then an optional stride-2 conv. */
import type { Params, Value } from '@sdxs/graph';
import type { BlockContext, DownBlockOutput } from './block-context.js';
import { downsample2D } from './downsample-2d.js';
import { resnetBlock2D } from './resnet-block-2d.js';

export interface DownBlock2DOptions {
  inChannels: number;
  outChannels: number;
  /** Resnets in the block (`layers_per_block`). */
  layers: number;
  addDownsample: boolean;
  downsamplePadding: number;
}

/**
 * `resnets.{i}` then `downsamplers.0`; every resnet output and the downsampled output are skip connections.
 *
 * @example
 * const { hidden, residuals } = downBlock2D(unet.child('down_blocks').child(0), h, ctx, { inChannels: 320, outChannels: 320, layers: 1, addDownsample: true, downsamplePadding: 1 });
 */
export function downBlock2D(p: Params, x: Value, ctx: BlockContext, o: DownBlock2DOptions): DownBlockOutput {
  const residuals: Value[] = [];
  let h = x;
  for (let i = 0; i < o.layers; i++) {
    const inChannels = i === 0 ? o.inChannels : o.outChannels;
    h = resnetBlock2D(p.child('resnets').child(i), h, ctx.tembAct, { inChannels, outChannels: o.outChannels, tembChannels: ctx.tembChannels, groups: ctx.groups, eps: ctx.eps });
    residuals.push(h);
  }
  if (o.addDownsample) {
    h = downsample2D(p.child('downsamplers').child(0), h, o.outChannels, o.downsamplePadding);
    residuals.push(h);
  }
  return { hidden: h, residuals };
}
