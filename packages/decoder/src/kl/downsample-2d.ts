// diffusers.models.downsampling.Downsample2D with use_conv=True (the VAE encoder's down-sampler).
import { Conv, type Params, type Value } from '@sdxs/graph';

/**
 * Downsample2D: a 3×3 stride-2 `conv`. With `padding` 0 (the VAE encoder's `downsample_padding`) diffusers pads
 * one zero row and column at the bottom and right only (F.pad (0, 1, 0, 1)); here that is the conv's own
 * asymmetric pads, which is the same arithmetic without a Pad node.
 *
 * @example
 * const h = downsample2D(block.child('downsamplers').child(0), x, 128, 0);
 */
export function downsample2D(p: Params, x: Value, channels: number, padding: number): Value {
  return p.scoped(() => {
    const conv = p.child('conv');
    const w = conv.param('weight', [channels, channels, 3, 3]);
    const b = conv.param('bias', [channels]);
    const pads = padding === 0 ? [0, 0, 1, 1] : [padding, padding, padding, padding];
    return Conv(x, w, b, { strides: [2, 2], pads });
  });
}
