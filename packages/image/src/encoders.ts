/**
 * JPEG and WebP out, the same bytes in Node and the browser: Squoosh's MozJPEG and libwebp compiled to
 * WebAssembly (@jsquash/jpeg, @jsquash/webp; 1.6 MB installed, no native build). sharp encodes several times faster
 * in Node but is a 20 MB native install that browsers cannot use; jpeg-js has no WebP. Measured in
 * docs/libraries.md. The codecs load on first use only. In a browser the bundler serves their .wasm files (Vite:
 * keep @jsquash out of dependency pre-bundling, as its README says); in Node they are read from node_modules.
 */
import type { RgbaImage } from './png/encode.js';
import { jpegWithComment, webpWithComment } from './exif.js';
import { initCodec, type Init } from './wasm-codecs.js';

export interface EncodeJpegOptions {
  /** 0–100 (default 90). */
  readonly quality?: number;
  /** Written as the EXIF UserComment (A1111's place for the generation parameters). */
  readonly comment?: string;
}

export interface EncodeWebpOptions extends EncodeJpegOptions {
  /** Lossless WebP (default false); `quality` then trades time for size. */
  readonly lossless?: boolean;
}

interface ImageDataLike {
  readonly data: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

type Encode<O> = (data: ImageDataLike, options?: Partial<O>) => Promise<ArrayBuffer>;

function check(image: RgbaImage, quality: number | undefined, what: string): ImageDataLike {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || data.length !== width * height * 4) {
    throw new RangeError(`${what}: expected ${width}×${height} RGBA (${width * height * 4} bytes), got ${data.length} bytes`);
  }
  if (quality !== undefined && !(Number.isFinite(quality) && quality >= 0 && quality <= 100)) throw new RangeError(`${what}: quality must be 0–100, got ${quality}`);
  return { width, height, data: data instanceof Uint8ClampedArray ? data : new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) };
}

let jpeg: Promise<Encode<{ quality: number }>> | undefined;
let webp: Promise<Encode<{ quality: number; lossless: number }>> | undefined;

function jpegCodec(): Promise<Encode<{ quality: number }>> {
  jpeg ??= (async () => {
    const m = await import('@jsquash/jpeg/encode.js');
    await initCodec(m.init as unknown as Init, async () => '@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm');
    return m.default as unknown as Encode<{ quality: number }>;
  })();
  jpeg.catch(() => (jpeg = undefined));
  return jpeg;
}

function webpCodec(): Promise<Encode<{ quality: number; lossless: number }>> {
  webp ??= (async () => {
    const m = await import('@jsquash/webp/encode.js');
    // @jsquash/webp picks its SIMD build where WebAssembly has SIMD; the bytes must be that build's.
    const { simd } = await import('wasm-feature-detect');
    await initCodec(m.init as unknown as Init, async () => `@jsquash/webp/codec/enc/${(await simd()) ? 'webp_enc_simd' : 'webp_enc'}.wasm`);
    return m.default as unknown as Encode<{ quality: number; lossless: number }>;
  })();
  webp.catch(() => (webp = undefined));
  return webp;
}

/**
 * A baseline JPEG (MozJPEG, 4:2:0) of RGBA pixels (alpha dropped), with `comment` as its EXIF UserComment.
 *
 * @example
 * await writeFile('cat.jpg', await encodeJpeg(image, { quality: 90, comment: infotext }));
 */
export async function encodeJpeg(image: RgbaImage, options: EncodeJpegOptions = {}): Promise<Uint8Array> {
  const data = check(image, options.quality, 'encodeJpeg');
  const bytes = new Uint8Array(await (await jpegCodec())(data, { quality: options.quality ?? 90 }));
  return options.comment === undefined ? bytes : jpegWithComment(bytes, options.comment);
}

/**
 * A WebP (lossy by default) of RGBA pixels, with `comment` as its EXIF UserComment.
 *
 * @example
 * await writeFile('cat.webp', await encodeWebp(image, { quality: 90, comment: infotext }));
 */
export async function encodeWebp(image: RgbaImage, options: EncodeWebpOptions = {}): Promise<Uint8Array> {
  const data = check(image, options.quality, 'encodeWebp');
  const bytes = new Uint8Array(await (await webpCodec())(data, { quality: options.quality ?? 90, lossless: options.lossless ? 1 : 0 }));
  return options.comment === undefined ? bytes : webpWithComment(bytes, data.width, data.height, options.comment);
}
