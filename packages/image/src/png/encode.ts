/**
 * A PNG writer: libpng's adaptive row filters, zlib deflate (src/zlib.ts), text chunks as Pillow writes them
 * (tEXt for Latin-1, iTXt for the rest, before the image data). Why not an npm encoder: docs/libraries.md
 * (none writes iTXt for non-Latin-1 prompts; measured size and speed there).
 */
import { concatBytes, deflate } from '../zlib.js';
import { encodeChunk, PNG_SIGNATURE } from './chunks.js';
import { encodeTextChunk } from './text.js';

/** 8-bit RGBA pixels, row-major (what @sdxs/pipeline returns). */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array | Uint8ClampedArray;
}

export interface EncodePngOptions {
  /** Text chunks, in order (keyword, text). */
  readonly text?: ReadonlyArray<readonly [string, string]>;
  /** zlib level 0–9 (default 6, zlib's own default: near the best size at a fraction of level 9's time). */
  readonly level?: number;
}

function isOpaque(data: Uint8Array | Uint8ClampedArray): boolean {
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 255) return false;
  return true;
}

/** Row `row` filtered with type `f` (PNG spec §9.2) into `out`; returns libpng's heuristic cost, the sum of |signed byte|. */
function filterRow(f: number, row: Uint8Array, up: Uint8Array, bpp: number, out: Uint8Array): number {
  const n = out.length;
  // One loop per filter type: a branch per byte would cost more than the filtering.
  if (f === 0) for (let i = 0; i < n; i++) out[i] = row[i]!;
  else if (f === 1) for (let i = 0; i < n; i++) out[i] = row[i]! - (i >= bpp ? row[i - bpp]! : 0);
  else if (f === 2) for (let i = 0; i < n; i++) out[i] = row[i]! - up[i]!;
  else if (f === 3) for (let i = 0; i < n; i++) out[i] = row[i]! - (((i >= bpp ? row[i - bpp]! : 0) + up[i]!) >> 1);
  else
    for (let i = 0; i < n; i++) {
      const a = i >= bpp ? row[i - bpp]! : 0;
      const b = up[i]!;
      const c = i >= bpp ? up[i - bpp]! : 0;
      const pa = Math.abs(b - c);
      const pb = Math.abs(a - c);
      const pc = Math.abs(a + b - 2 * c);
      out[i] = row[i]! - (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
    }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = out[i]!;
    sum += v < 128 ? v : 256 - v;
  }
  return sum;
}

/** Each row with the filter type of the smallest heuristic cost (libpng's default choice), type byte first. */
function filterRows(pixels: Uint8Array, width: number, height: number, bpp: number): Uint8Array {
  const stride = width * bpp;
  const out = new Uint8Array(height * (stride + 1));
  const candidates = Array.from({ length: 5 }, () => new Uint8Array(stride));
  const zero = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = pixels.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : zero;
    let best = 0;
    let bestSum = Infinity;
    for (let f = 0; f < 5; f++) {
      const sum = filterRow(f, row, up, bpp, candidates[f]!);
      if (sum < bestSum) [best, bestSum] = [f, sum];
    }
    out[y * (stride + 1)] = best;
    out.set(candidates[best]!, y * (stride + 1) + 1);
  }
  return out;
}

/**
 * Encode 8-bit RGBA pixels as a PNG (colour type 2, RGB, when every pixel is opaque; else 6, RGBA), with
 * text chunks before the image data so readers that stop early still find them.
 *
 * @example
 * const png = encodePng(images[0], { text: [['parameters', 'a cat\nSteps: 1, Seed: 42']] });
 */
export function encodePng(image: RgbaImage, options: EncodePngOptions = {}): Uint8Array {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 2 ** 31 - 1 || height > 2 ** 31 - 1) {
    throw new RangeError(`encodePng: bad image size ${width}×${height}`);
  }
  if (data.length !== width * height * 4) throw new RangeError(`encodePng: ${width}×${height} RGBA needs ${width * height * 4} bytes, got ${data.length}`);
  const opaque = isOpaque(data);
  // A Uint8Array view whatever came in (the pipeline returns Uint8ClampedArray): one array type keeps the
  // filter loops monomorphic, about ten times faster.
  let pixels = new Uint8Array(data.buffer, data.byteOffset, data.length);
  if (opaque) {
    pixels = new Uint8Array(width * height * 3);
    for (let i = 0, j = 0; i < data.length; i += 4, j += 3) {
      pixels[j] = data[i]!;
      pixels[j + 1] = data[i + 1]!;
      pixels[j + 2] = data[i + 2]!;
    }
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, opaque ? 2 : 6, 0, 0, 0], 8); // depth 8, colour type, deflate, adaptive filtering, no interlace
  const idat = deflate(filterRows(pixels, width, height, opaque ? 3 : 4), options.level ?? 6);
  const parts = [
    PNG_SIGNATURE,
    encodeChunk('IHDR', ihdr),
    ...(options.text ?? []).map(([k, v]) => encodeTextChunk(k, v)),
    encodeChunk('IDAT', idat),
    encodeChunk('IEND', new Uint8Array(0)),
  ];
  return concatBytes(parts);
}
