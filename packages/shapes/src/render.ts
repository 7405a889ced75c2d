import { shapeDistance, type Placement } from './geometry.js';
import type { ShapeName } from './vocabulary.js';

/** An RGB image, 8 bits per channel, row-major HWC. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * Draw `shape` in `color` on `background`: each pixel's coverage is its signed distance at the pixel centre turned
 * into a one-pixel linear ramp (an analytic box filter), so edges are anti-aliased without supersampling.
 */
export function renderShape(size: number, shape: ShapeName, p: Placement, color: readonly number[], background: readonly number[]): RgbImage {
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d = shapeDistance(shape, p, x + 0.5, y + 0.5);
      const a = Math.max(0, Math.min(1, 0.5 - d));
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) data[o + c] = Math.round(background[c]! + (color[c]! - background[c]!) * a);
    }
  }
  return { width: size, height: size, data };
}
