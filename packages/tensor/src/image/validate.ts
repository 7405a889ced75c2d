// Size and layout checks shared by the image helpers, so every entry point fails with the same clear words.

/** Largest width or height the image helpers accept; larger values are almost certainly a mistake. */
export const MAX_IMAGE_SIDE = 65536;
/** Largest pixel count (width × height) the image helpers accept: 2^28, a 1 GiB RGBA buffer. */
export const MAX_IMAGE_PIXELS = 2 ** 28;

/** The value range of float pixels: diffusers' normalized `[-1, 1]` or plain `[0, 1]`. */
export type PixelRange = '-1,1' | '0,1';

/** Throw a RangeError unless `width` × `height` is a sane image size. */
export function checkImageSize(width: number, height: number, what = 'image'): void {
  for (const [name, value] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_IMAGE_SIDE) {
      throw new RangeError(`${what} ${name} must be an integer from 1 to ${MAX_IMAGE_SIDE}, got ${value}`);
    }
  }
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new RangeError(`${what} of ${width}×${height} pixels exceeds the limit of ${MAX_IMAGE_PIXELS} pixels`);
  }
}

/** Throw a TypeError unless `range` is a known pixel range (callers may be untyped JS). */
export function checkRange(range: string): asserts range is PixelRange {
  if (range !== '-1,1' && range !== '0,1') {
    throw new TypeError(`pixel range must be '-1,1' or '0,1', got '${range}'`);
  }
}

/**
 * The channel count of an interleaved 8-bit buffer: `channels` when given (checked against the length),
 * else inferred from the length (3 for RGB, 4 for RGBA).
 */
export function interleavedChannels(length: number, width: number, height: number, channels?: 3 | 4): 3 | 4 {
  const pixels = width * height;
  if (channels === undefined) {
    if (length === pixels * 4) return 4;
    if (length === pixels * 3) return 3;
    throw new RangeError(
      `pixel buffer has ${length} bytes but a ${width}×${height} image needs ${pixels * 3} (RGB) or ${pixels * 4} (RGBA)`,
    );
  }
  if (channels !== 3 && channels !== 4) throw new RangeError(`channels must be 3 (RGB) or 4 (RGBA), got ${String(channels)}`);
  if (length !== pixels * channels) {
    throw new RangeError(
      `pixel buffer has ${length} bytes but a ${width}×${height} ${channels === 4 ? 'RGBA' : 'RGB'} image needs ${pixels * channels}`,
    );
  }
  return channels;
}
