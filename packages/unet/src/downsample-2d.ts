/** diffusers' `Downsample2D(use_conv=True, name="op")` (diffusers/models/downsampling.py): a stride-2 3×3 conv. */
import { Conv, type Params, type Value } from '@sdxs/graph';

/**
 * The stride-2 conv `conv` [channels, channels, 3, 3] under `p`. `padding` 1 (SD) pads every side;
 * `padding` 0 pads only the right and bottom by one, as diffusers' F.pad(0, 1, 0, 1) does.
 *
 * @example
 * const h = downsample2D(block.child('downsamplers').child(0), x, 320, 1);
 */
export function downsample2D(p: Params, x: Value, channels: number, padding: number): Value {
  return p.scoped(() => {
    const c = p.child('conv');
    const w = c.param('weight', [channels, channels, 3, 3]);
    const b = c.param('bias', [channels]);
    // ONNX pads are [top, left, bottom, right].
    const pads = padding === 0 ? [0, 0, 1, 1] : [padding, padding, padding, padding];
    return Conv(x, w, b, { strides: [2, 2], pads });
  });
}
