/**
 * diffusers' `UNetMidBlock2D` as ControlNetModel builds it for `mid_block_type: "UNetMidBlock2D"`
 * (diffusers/models/unets/unet_2d_blocks.py with num_layers=0, add_attention=False): a single resnet.
 */
import type { Params, Value } from '@sdxs/graph';
import { resnetBlock2D, type BlockContext } from '@sdxs/unet';

/**
 * `resnets.0` [channels → channels], its sum divided by `outputScaleFactor` (`mid_block_scale_factor`).
 *
 * @example
 * const h = midBlock2D(controlnet.child('mid_block'), x, ctx, 1280, 1);
 */
export function midBlock2D(p: Params, x: Value, ctx: BlockContext, channels: number, outputScaleFactor: number): Value {
  return resnetBlock2D(p.child('resnets').child(0), x, ctx.tembAct, {
    inChannels: channels,
    outChannels: channels,
    tembChannels: ctx.tembChannels,
    groups: ctx.groups,
    eps: ctx.eps,
    outputScaleFactor,
  });
}
