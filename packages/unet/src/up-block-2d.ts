/** diffusers' `UpBlock2D` (diffusers/models/unets/unet_2d_blocks.py): resnets on [h, skip] concatenations, then nearest ×2 + conv. */
import { Concat, type Params, type Value } from '@sdxs/graph';
import type { BlockContext } from './block-context.js';
import { resnetBlock2D } from './resnet-block-2d.js';
import { upsample2D } from './upsample-2d.js';

export interface UpBlock2DOptions {
  /** Channels of the block's last skip connection (`in_channels`). */
  inChannels: number;
  /** Channels coming from the block below (`prev_output_channel`). */
  prevOutputChannels: number;
  outChannels: number;
  /** Resnets in the block (`layers_per_block + 1`). */
  layers: number;
  addUpsample: boolean;
  /** The size to upsample to when it is not twice the input (diffusers' `upsample_size`). */
  upsampleSize?: readonly [number, number];
}

/** Input channels of resnet `i`: what comes from below (or the previous resnet), plus the skip it is concatenated with. */
export function upResnetInChannels(o: UpBlock2DOptions, i: number): number {
  const fromBelow = i === 0 ? o.prevOutputChannels : o.outChannels;
  const skip = i === o.layers - 1 ? o.inChannels : o.outChannels;
  return fromBelow + skip;
}

/**
 * For each resnet, the last remaining skip is concatenated on the channel axis (`skips` is this block's share,
 * used from the end, as diffusers pops `res_hidden_states_tuple`); then `upsamplers.0`.
 *
 * @example
 * const h = upBlock2D(unet.child('up_blocks').child(0), x, skips, ctx, { inChannels: 1280, prevOutputChannels: 1280, outChannels: 1280, layers: 3, addUpsample: true });
 */
export function upBlock2D(p: Params, x: Value, skips: readonly Value[], ctx: BlockContext, o: UpBlock2DOptions): Value {
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
  }
  return o.addUpsample ? upsample2D(p.child('upsamplers').child(0), h, o.outChannels, o.upsampleSize) : h;
}
