/**
 * Image files users hand in (init images, control images, sketches): PNG, JPEG or WebP, told apart by their magic
 * bytes (an allowlist: anything else is refused), their size read from the header and checked against a pixel cap
 * before any pixel is decoded (a small file that claims a huge image fails at once), then decoded to 8-bit RGBA —
 * PNG by our reader, JPEG by MozJPEG's and WebP by libwebp's decoders as WebAssembly (@jsquash). A JPEG without its
 * end marker is refused as truncated (libjpeg would fill the rest with grey and warn).
 */
import { decodePng, DEFAULT_MAX_PIXELS } from './png/decode.js';
import { PngError } from './png/chunks.js';
import { ImageFormatError, readUserComment } from './exif.js';
import { initCodec, type Init } from './wasm-codecs.js';

export type ImageFormat = 'png' | 'jpeg' | 'webp';

export interface ImageInfo {
  readonly format: ImageFormat;
  readonly width: number;
  readonly height: number;
}

export interface DecodedImage extends ImageInfo {
  /** RGBA, row-major. */
  readonly data: Uint8Array;
  /** PNG text chunks by keyword; for JPEG and WebP, `parameters` from the EXIF UserComment when there is one. */
  readonly text: Readonly<Record<string, string>>;
}

export interface DecodeImageOptions {
  /** Refuse images with more pixels than this (default {@link DEFAULT_MAX_PIXELS}). */
  readonly maxPixels?: number;
}

const u16be = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;
const u16le = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);
const u24le = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16);
const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));

function jpegSize(b: Uint8Array): { width: number; height: number } {
  for (let at = 2; at + 4 <= b.length; ) {
    if (b[at] !== 0xff) throw new ImageFormatError(`corrupt JPEG: no marker at byte ${at}`);
    const marker = b[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // no length
      continue;
    }
    if (marker === 0xda || marker === 0xd9) break; // scan data or end, before any frame header
    const length = u16be(b, at + 2);
    if (length < 2 || at + 2 + length > b.length) throw new ImageFormatError(`truncated JPEG: segment 0x${marker.toString(16)} overruns the file`);
    // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (length < 7) throw new ImageFormatError('corrupt JPEG: short frame header');
      return { height: u16be(b, at + 5), width: u16be(b, at + 7) };
    }
    at += 2 + length;
  }
  throw new ImageFormatError('corrupt JPEG: no frame header (SOF) before the image data');
}

function webpSize(b: Uint8Array): { width: number; height: number } {
  if (b.length < 30) throw new ImageFormatError('truncated WebP: the header is incomplete');
  const chunk = ascii(b, 12, 4);
  const d = 20; // the first chunk's data
  if (chunk === 'VP8X') return { width: u24le(b, d + 4) + 1, height: u24le(b, d + 7) + 1 };
  if (chunk === 'VP8 ') {
    if (b[d + 3] !== 0x9d || b[d + 4] !== 0x01 || b[d + 5] !== 0x2a) throw new ImageFormatError('corrupt WebP: bad VP8 frame signature');
    return { width: u16le(b, d + 6) & 0x3fff, height: u16le(b, d + 8) & 0x3fff };
  }
  if (chunk === 'VP8L') {
    if (b[d] !== 0x2f) throw new ImageFormatError('corrupt WebP: bad VP8L signature');
    const bits = b[d + 1]! | (b[d + 2]! << 8) | (b[d + 3]! << 16) | (b[d + 4]! << 24);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  throw new ImageFormatError(`corrupt WebP: unknown first chunk ${JSON.stringify(chunk)}`);
}

/**
 * Format and size of an image file from its first bytes; throws an ImageFormatError for anything but PNG, JPEG and
 * WebP, or a header that is cut short.
 *
 * @example
 * imageInfo(bytes); // { format: 'jpeg', width: 512, height: 512 }
 */
export function imageInfo(bytes: Uint8Array): ImageInfo {
  if (bytes.length >= 24 && bytes[0] === 0x89 && ascii(bytes, 1, 3) === 'PNG') {
    if (ascii(bytes, 12, 4) !== 'IHDR') throw new ImageFormatError('corrupt PNG: the first chunk is not IHDR');
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { format: 'png', width: v.getUint32(16), height: v.getUint32(20) };
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return { format: 'jpeg', ...jpegSize(bytes) };
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return { format: 'webp', ...webpSize(bytes) };
  throw new ImageFormatError('not a PNG, JPEG or WebP file');
}

interface Decoded {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}
type Decode = (buffer: ArrayBuffer) => Promise<Decoded>;
let jpeg: Promise<Decode> | undefined;
let webp: Promise<Decode> | undefined;

function codec(which: 'jpeg' | 'webp'): Promise<Decode> {
  const load = async (): Promise<Decode> => {
    const m = which === 'jpeg' ? await import('@jsquash/jpeg/decode.js') : await import('@jsquash/webp/decode.js');
    const wasm = which === 'jpeg' ? '@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm' : '@jsquash/webp/codec/dec/webp_dec.wasm';
    await initCodec(m.init as unknown as Init, async () => wasm);
    return m.default as unknown as Decode;
  };
  const p = which === 'jpeg' ? (jpeg ??= load()) : (webp ??= load());
  p.catch(() => (which === 'jpeg' ? (jpeg = undefined) : (webp = undefined)));
  return p;
}

/**
 * Decode a PNG, JPEG or WebP file to 8-bit RGBA, refusing images over `maxPixels` from the header alone.
 *
 * @example
 * const { width, height, data, format } = await decodeImage(await readFile('sketch.jpg'), { maxPixels: 4096 * 4096 });
 */
export async function decodeImage(bytes: Uint8Array, options: DecodeImageOptions = {}): Promise<DecodedImage> {
  const info = imageInfo(bytes);
  const max = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (info.width < 1 || info.height < 1) throw new ImageFormatError(`corrupt ${info.format.toUpperCase()}: size ${info.width}×${info.height}`);
  if (info.width * info.height > max) throw new ImageFormatError(`${info.format.toUpperCase()} of ${info.width}×${info.height} pixels is over the limit of ${max} pixels`);
  if (info.format === 'png') {
    try {
      const png = decodePng(bytes, { maxPixels: max });
      const data = png.data instanceof Uint8Array ? png.data : new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length);
      return { format: 'png', width: png.width, height: png.height, data, text: png.text };
    } catch (e) {
      if (e instanceof PngError) throw new ImageFormatError(e.message);
      throw e;
    }
  }
  if (info.format === 'jpeg') {
    let end = bytes.length;
    while (end > 2 && bytes[end - 1] === 0) end--; // some writers pad after EOI
    if (bytes[end - 2] !== 0xff || bytes[end - 1] !== 0xd9) throw new ImageFormatError('truncated JPEG: the file ends before its end-of-image marker');
  }
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let decoded: Decoded;
  try {
    decoded = await (await codec(info.format))(buffer);
  } catch (e) {
    throw new ImageFormatError(`corrupt ${info.format.toUpperCase()}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (decoded.width !== info.width || decoded.height !== info.height) {
    throw new ImageFormatError(`corrupt ${info.format.toUpperCase()}: the header says ${info.width}×${info.height}, the data decodes to ${decoded.width}×${decoded.height}`);
  }
  let comment: string | undefined;
  try {
    comment = readUserComment(bytes);
  } catch {
    comment = undefined; // metadata that does not parse is ignored, as image viewers do
  }
  const data = new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.length);
  return { format: info.format, width: decoded.width, height: decoded.height, data, text: comment === undefined ? {} : { parameters: comment } };
}
