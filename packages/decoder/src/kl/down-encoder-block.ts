// diffusers.models.unets.unet_2d_blocks.DownEncoderBlock2D (no time embedding).
import type { Params, Value } from '@sdxs/graph';
import type { Activation } from '../activation.js';
import { downsample2D } from './downsample-2d.js';
import { resnetBlock2D } from './resnet-block.js';

export interface DownEncoderBlock2DOptions {
  inChannels: number;
  outChannels: number;
  numLayers: number;
  groups: number;
  eps: number;
  actFn: Activation;
  addDownsample: boolean;
  /** Downsample2D's padding (the VAE encoder passes 0: pad bottom/right only). */
  downsamplePadding: number;
}

/**
 * DownEncoderBlock2D: `numLayers` ResnetBlock2D (`resnets.i`), then an optional stride-2 Downsample2D
 * (`downsamplers.0`).
 *
 * @example
 * const h = downEncoderBlock2D(encoder.child('down_blocks').child(0), x, { inChannels: 128, outChannels: 128, numLayers: 2, groups: 32, eps: 1e-6, actFn: 'silu', addDownsample: true, downsamplePadding: 0 });
 */
export function downEncoderBlock2D(p: Params, x: Value, o: DownEncoderBlock2DOptions): Value {
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
  return o.addDownsample ? downsample2D(p.child('downsamplers').child(0), h, o.outChannels, o.downsamplePadding) : h;
}
