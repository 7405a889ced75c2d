// diffusers.models.unets.unet_2d_blocks.UpDecoderBlock2D (no time embedding, "default" norm).
import type { Params, Value } from '@sdxs/graph';
import type { Activation } from '../activation.js';
import { resnetBlock2D } from './resnet-block.js';
import { upsample2D } from './upsample-2d.js';

export interface UpDecoderBlock2DOptions {
  inChannels: number;
  outChannels: number;
  numLayers: number;
  groups: number;
  eps: number;
  actFn: Activation;
  addUpsample: boolean;
}

/**
 * UpDecoderBlock2D: `numLayers` ResnetBlock2D (`resnets.i`), then an optional nearest ×2 Upsample2D with a conv
 * (`upsamplers.0`).
 *
 * @example
 * const h = upDecoderBlock2D(decoder.child('up_blocks').child(0), x, { inChannels: 512, outChannels: 512, numLayers: 3, groups: 32, eps: 1e-6, actFn: 'silu', addUpsample: true });
 */
export function upDecoderBlock2D(p: Params, x: Value, o: UpDecoderBlock2DOptions): Value {
  let h = x;
  for (let i = 0; i < o.numLayers; i++) {
    h = resnetBlock2D(p.child('resnets').child(i), h, {
      inChannels: i === 0 ? o.inChannels : o.outChannels,
      outChannels: o.outChannels,
      groups: o.groups,
      eps: o.eps,
      actFn: o.actFn,
    });
  }
  return o.addUpsample ? upsample2D(p.child('upsamplers').child(0), h, o.outChannels) : h;
}
