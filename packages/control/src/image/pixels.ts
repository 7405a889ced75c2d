/** 8-bit interleaved pixels of any channel count the control-image helpers take, and their layout checks. */

/** 8-bit pixels, row-major from the top row, channels interleaved (HWC): 1 (grey), 3 (RGB) or 4 (RGBA). */
export interface Pixels {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array | Uint8ClampedArray;
  /** Channels per pixel; inferred from the length when omitted. */
  readonly channels?: 1 | 3 | 4;
}

/** A single-channel 8-bit image (an edge map: 0 or 255). */
export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
  channels: 1;
}

/** Largest width or height accepted (as @sdxs/tensor's image helpers). */
const MAX_SIDE = 65536;

/**
 * The channel count of `image` (given, or inferred from the buffer length), after checking its size.
 *
 * @example
 * channelsOf({ width: 2, height: 1, data: new Uint8Array(6) }); // 3
 */
export function channelsOf(image: Pixels, what = 'image'): 1 | 3 | 4 {
  const { width, height, data } = image;
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_SIDE) throw new RangeError(`${what} ${name} must be an integer from 1 to ${MAX_SIDE}, got ${v}`);
  }
  const pixels = width * height;
  const given = image.channels;
  if (given !== undefined) {
    if (given !== 1 && given !== 3 && given !== 4) throw new RangeError(`${what} channels must be 1, 3 or 4, got ${String(given)}`);
    if (data.length !== pixels * given) throw new RangeError(`${what} has ${data.length} bytes; ${width}×${height} with ${given} channels needs ${pixels * given}`);
    return given;
  }
  for (const c of [1, 3, 4] as const) if (data.length === pixels * c) return c;
  throw new RangeError(`${what} has ${data.length} bytes; a ${width}×${height} image needs ${pixels} (grey), ${pixels * 3} (RGB) or ${pixels * 4} (RGBA)`);
}

/**
 * The image as interleaved RGB, as PIL's `convert("RGB")` makes it: grey is repeated into the three channels,
 * alpha is dropped (not composited). Returns `data` itself when it is already RGB.
 *
 * @example
 * const rgb = toRGB({ width: 1, height: 1, data: Uint8Array.of(10, 20, 30, 0) }); // [10, 20, 30]
 */
export function toRGB(image: Pixels): Uint8Array | Uint8ClampedArray {
  const cn = channelsOf(image);
  if (cn === 3) return image.data;
  const n = image.width * image.height;
  const src = image.data;
  const out = new Uint8Array(n * 3);
  for (let p = 0, q = 0, o = 0; p < n; p++, q += cn, o += 3) {
    const r = src[q]!;
    out[o] = r;
    out[o + 1] = cn === 1 ? r : src[q + 1]!;
    out[o + 2] = cn === 1 ? r : src[q + 2]!;
  }
  return out;
}
