// diffusers.models.upsampling.Upsample2D with use_conv=True (the VAE decoder's up-sampler).
import { Resize, conv2d, type Params, type Value } from '@sdxs/graph';

/**
 * Upsample2D: nearest-neighbour ×2 (F.interpolate's legacy 'nearest': src = floor(dst / 2)), then a 3×3 `conv`.
 *
 * @example
 * const h = upsample2D(block.child('upsamplers').child(0), x, 512);
 */
export function upsample2D(p: Params, x: Value, channels: number): Value {
  return p.scoped(() => {
    const up = Resize(x, { scales: [2, 2], axes: [2, 3], mode: 'nearest', coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' });
    return conv2d(p.child('conv'), up, channels, channels, 3, { padding: 1 });
  });
}
