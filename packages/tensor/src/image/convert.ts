/**
 * Interleaved 8-bit RGB(A) pixels <-> planar NCHW float32 tensors, with the arithmetic of diffusers'
 * `VaeImageProcessor` (src/diffusers/image_processor.py), reproduced in float32 so the results match
 * bit for bit:
 * - preprocess: `pil_to_numpy` divides by 255 in float32, `normalize` computes `2 * x - 1`;
 * - postprocess: `denormalize` computes `(x * 0.5 + 0.5).clamp(0, 1)` in torch, then `numpy_to_pil`
 *   computes `(x * 255).round().astype("uint8")` in float32, where numpy rounds halves to even.
 */

import { Tensor } from '../tensor.js';
import { checkImageSize, checkRange, interleavedChannels, type PixelRange } from './validate.js';

/** Interleaved 8-bit pixels with their size; `ImageData` fits, as does what `tensorToImage` returns. */
export interface ImageInput {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array | Uint8ClampedArray;
}

/** An 8-bit image made by `tensorToImage`: RGBA (or RGB) interleaved, row-major, top row first. */
export interface RawImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export interface ImageToTensorOptions {
  /** Channels per pixel in the input (3 = RGB, 4 = RGBA, alpha dropped); inferred from the length when omitted. */
  channels?: 3 | 4;
  /** Range of the output floats; `'-1,1'` (default) is what SD VAEs and diffusers expect. */
  range?: PixelRange;
}

export interface TensorToImageOptions {
  /** Range of the input floats (default `'-1,1'`). */
  range?: PixelRange;
  /** Emit RGBA with alpha 255 (default) rather than RGB. */
  alpha?: boolean;
}

const levelTables = new Map<PixelRange, Float32Array>();

/** The float for each byte value, computed with float32 rounding exactly as diffusers does. */
function levels(range: PixelRange): Float32Array {
  let table = levelTables.get(range);
  if (!table) {
    table = new Float32Array(256);
    for (let v = 0; v < 256; v++) {
      const unit = Math.fround(v / 255);
      table[v] = range === '-1,1' ? Math.fround(2 * unit - 1) : unit;
    }
    levelTables.set(range, table);
  }
  return table;
}

function writePlanes(src: ImageInput, channels: 3 | 4, table: Float32Array, out: Float32Array, offset: number): void {
  const pixels = src.width * src.height;
  const data = src.data;
  for (let p = 0, q = 0; p < pixels; p++, q += channels) {
    out[offset + p] = table[data[q]!]!;
    out[offset + pixels + p] = table[data[q + 1]!]!;
    out[offset + 2 * pixels + p] = table[data[q + 2]!]!;
  }
}

/**
 * One interleaved RGB/RGBA image as a `[1, 3, height, width]` float32 tensor (alpha dropped).
 *
 * @example
 * const x = imageToTensor(imageData.data, imageData.width, imageData.height); // values in [-1, 1]
 */
export function imageToTensor(
  pixels: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  options: ImageToTensorOptions = {},
): Tensor<'float32'> {
  return imagesToTensor([{ width, height, data: pixels }], options);
}

/**
 * Several same-sized interleaved RGB/RGBA images as one `[N, 3, height, width]` float32 tensor.
 *
 * @example
 * const batch = imagesToTensor([a, b], { range: '0,1' }); // shape [2, 3, H, W]
 */
export function imagesToTensor(images: readonly ImageInput[], options: ImageToTensorOptions = {}): Tensor<'float32'> {
  const range = options.range ?? '-1,1';
  checkRange(range);
  const first = images[0];
  if (!first) throw new RangeError('imagesToTensor needs at least one image');
  const { width, height } = first;
  checkImageSize(width, height);
  const plane = width * height;
  const out = new Float32Array(images.length * 3 * plane);
  const table = levels(range);
  images.forEach((image, n) => {
    if (image.width !== width || image.height !== height) {
      throw new RangeError(`image ${n} is ${image.width}×${image.height} but image 0 is ${width}×${height}; a batch needs one size`);
    }
    const channels = interleavedChannels(image.data.length, width, height, options.channels);
    writePlanes(image, channels, table, out, n * 3 * plane);
  });
  return new Tensor('float32', [images.length, 3, height, width], out);
}

/**
 * A `[N, 3, H, W]` (or `[3, H, W]`) float32 tensor as N 8-bit images, RGBA with alpha 255 by default.
 * Values are mapped to [0, 1] (`x * 0.5 + 0.5` for the `'-1,1'` range), clamped, scaled by 255 and
 * rounded half to even, as diffusers' postprocess does; NaN becomes 0. (For `'0,1'` diffusers skips
 * the clamp and lets numpy's uint8 cast wrap out-of-range values; clamping is the defined choice.)
 *
 * @example
 * const [image] = tensorToImage(decoded); // { width, height, data: Uint8ClampedArray (RGBA) }
 */
export function tensorToImage(t: Tensor<'float32'>, options: TensorToImageOptions = {}): RawImage[] {
  const range = options.range ?? '-1,1';
  checkRange(range);
  if (t.dtype !== 'float32') throw new TypeError(`tensorToImage needs a float32 tensor, got ${t.dtype} (see castTensor)`);
  const shape = t.rank === 3 ? [1, ...t.shape] : t.shape;
  const [batch, channels, height, width] = shape;
  if (shape.length !== 4 || channels !== 3 || batch === undefined || height === undefined || width === undefined) {
    throw new RangeError(`tensorToImage needs shape [N, 3, H, W] or [3, H, W], got [${t.shape.join(', ')}]`);
  }
  checkImageSize(width, height);
  const alpha = options.alpha ?? true;
  const stride = alpha ? 4 : 3;
  const plane = width * height;
  const signed = range === '-1,1';
  const images: RawImage[] = [];
  for (let n = 0; n < batch; n++) {
    const data = new Uint8ClampedArray(plane * stride);
    if (alpha) data.fill(255);
    for (let c = 0; c < 3; c++) {
      const src = t.data.subarray((n * 3 + c) * plane, (n * 3 + c + 1) * plane);
      for (let p = 0; p < plane; p++) {
        let x = src[p]!;
        if (signed) x = Math.fround(Math.fround(x * 0.5) + 0.5);
        x = x < 0 ? 0 : x > 1 ? 1 : x;
        // A Uint8ClampedArray store rounds halves to even (ECMAScript ToUint8Clamp) and maps NaN
        // to 0, which is exactly numpy's round() followed by the uint8 cast for values in [0, 255].
        data[p * stride + c] = Math.fround(x * 255);
      }
    }
    images.push({ width, height, data });
  }
  return images;
}
