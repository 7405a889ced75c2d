/** diffusers' `Upsample2D(use_conv=True)` (diffusers/models/upsampling.py): nearest ×2, then a 3×3 conv. */
import { conv2d, Resize, Slice, type Params, type Value } from '@sdxs/graph';

// torch's 'nearest' takes src = floor(dst · in / out): ONNX's asymmetric coordinates with floor rounding.
const NEAREST = { mode: 'nearest', coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' } as const;

/**
 * Nearest-neighbour upsampling as torch's F.interpolate(mode="nearest"): to twice the size, or to `size` [H, W]
 * (diffusers' `upsample_size`, the next skip connection's size, which differs when the latent is not a multiple
 * of the U-Net's total downsampling). For a target of 2·in − 1 (an odd size halved with padding 1), nearest at
 * that size picks the same rows as ×2 with the last row cut, so that is what is built: scales work for any batch.
 */
function nearestUp(x: Value, size?: readonly [number, number]): Value {
  const [h, w] = [x.shape[2], x.shape[3]];
  if (!size || (size[0] === Number(h) * 2 && size[1] === Number(w) * 2)) return Resize(x, { ...NEAREST, scales: [2, 2], axes: [2, 3] });
  if (typeof h === 'number' && typeof w === 'number' && size.every((s, i) => s === 2 * [h, w][i]! || s === 2 * [h, w][i]! - 1)) {
    return Slice(Resize(x, { ...NEAREST, scales: [2, 2], axes: [2, 3] }), [0, 0], [size[0], size[1]], [2, 3]);
  }
  return Resize(x, { ...NEAREST, sizes: size, axes: [2, 3] });
}

/**
 * Nearest upsampling (×2, or to `size` [H, W]) then `conv` [channels, channels, 3, 3], padding 1.
 *
 * @example
 * const h = upsample2D(block.child('upsamplers').child(0), x, 1280);
 */
export function upsample2D(p: Params, x: Value, channels: number, size?: readonly [number, number]): Value {
  return p.scoped(() => conv2d(p.child('conv'), nearestUp(x, size), channels, channels, 3, { padding: 1 }));
}
