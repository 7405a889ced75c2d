/**
 * Image encoders: @sdxs/image (our PNG writer on node:zlib, and on fflate as browsers run it; MozJPEG and libwebp as
 * WebAssembly through @jsquash) against fast-png, pngjs, jpeg-js and sharp — on the same pixels, interleaved, in
 * this process. Sizes, times, what each keeps of the metadata, and lossy quality as PSNR through one decoder.
 */
import jpegJs from 'jpeg-js';
import { encode as fastPngEncode } from 'fast-png';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { decodePng, encodeJpeg, encodePng, encodeWebp, readPngText } from '@sdxs/image';
import { deflate, fflateDeflate } from '../../../../packages/image/src/zlib.js';
import { median } from '../stats.js';

export interface EncoderRow {
  readonly format: 'png' | 'jpeg' | 'webp';
  readonly encoder: string;
  readonly ms: number;
  readonly kib: number;
  /** Lossless: pixels equal after decoding; lossy: PSNR in dB against the source. */
  readonly quality: string;
  /** A non-Latin-1 `parameters` text survives (PNG iTXt, or EXIF UserComment). */
  readonly metadata: string;
}

export interface ImageComparison {
  readonly size: number;
  readonly rows: EncoderRow[];
  /** Deflate alone on the filtered rows: node:zlib vs fflate (the browser's path), ms. */
  readonly deflate: { readonly zlib_ms: number; readonly fflate_ms: number; readonly zlib_bytes: number; readonly fflate_bytes: number };
}

/** A smooth picture with texture, as a generated 512² image is (noise alone would favour no codec). */
function picture(size: number): { width: number; height: number; data: Uint8ClampedArray } {
  const data = new Uint8ClampedArray(size * size * 4);
  let s = 1;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24) / 255;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const i = 4 * (y * size + x);
      data[i] = 128 + 100 * Math.sin(x / 37 + y / 53) + 10 * rand();
      data[i + 1] = 128 + 90 * Math.cos(x / 21 - y / 71) + 10 * rand();
      data[i + 2] = ((x ^ y) & 255) * 0.3 + 20 * rand();
      data[i + 3] = 255;
    }
  return { width: size, height: size, data };
}

function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let se = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % 4 === 3) continue;
    se += (a[i]! - b[i]!) ** 2;
    n++;
  }
  return 10 * Math.log10((255 * 255) / (se / n));
}

const TEXT = 'a red cat, 一只猫\nSteps: 1, Sampler: Euler, CFG scale: 0.0, Seed: 42, Size: 512x512';
const LATIN1 = 'a red cat, café\nSteps: 1, Sampler: Euler, CFG scale: 0.0, Seed: 42, Size: 512x512';

/** What fast-png does with a prompt outside Latin-1. */
function fastPngText(size: number): string {
  try {
    const b = fastPngEncode({ width: size, height: size, data: new Uint8Array(size * size * 4), channels: 4, text: { parameters: TEXT } });
    return readPngText(b).parameters === TEXT ? 'kept' : 'non-Latin-1 text garbled';
  } catch (e) {
    return `tEXt only: non-Latin-1 text refused (${e instanceof Error ? e.message : String(e)})`;
  }
}

async function time(runs: number, f: () => Promise<Uint8Array> | Uint8Array): Promise<{ ms: number; out: Uint8Array }> {
  let out = await f();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    out = await f();
    ms.push(performance.now() - t0);
  }
  return { ms: median(ms), out };
}

export async function compareImageEncoders(log: (s: string) => void, runs: number, size = 512): Promise<ImageComparison> {
  const image = picture(size);
  const raw = Buffer.from(image.data.buffer);
  const rawInput = { raw: { width: size, height: size, channels: 4 as const } };
  const same = (png: Uint8Array) => (Buffer.from(decodePng(png).data).equals(raw) ? 'pixels equal' : 'PIXELS DIFFER');
  const jpegPsnr = (b: Uint8Array) => `${psnr(image.data, jpegJs.decode(b, { useTArray: true, formatAsRGBA: true }).data).toFixed(1)} dB`;
  const webpPsnr = async (b: Uint8Array) => `${psnr(image.data, await sharp(b).ensureAlpha().raw().toBuffer()).toFixed(1)} dB`;
  const candidates: { format: EncoderRow['format']; encoder: string; run: () => Promise<Uint8Array> | Uint8Array; quality: (b: Uint8Array) => Promise<string> | string; metadata: (b: Uint8Array) => string }[] = [
    { format: 'png', encoder: '@sdxs/image encodePng (node:zlib)', run: () => encodePng(image, { text: [['parameters', TEXT]] }), quality: same, metadata: (b) => (readPngText(b).parameters === TEXT ? 'iTXt: kept' : 'LOST') },
    {
      format: 'png',
      // Timed with a Latin-1 text: fast-png writes tEXt only, and refuses other text (checked below).
      encoder: 'fast-png 8 (fflate)',
      run: () => fastPngEncode({ width: size, height: size, data: image.data, channels: 4, text: { parameters: LATIN1 } }),
      quality: same,
      metadata: () => fastPngText(size),
    },
    { format: 'png', encoder: 'pngjs 7', run: () => PNG.sync.write(Object.assign(new PNG({ width: size, height: size }), { data: raw })), quality: same, metadata: () => 'no text chunks' },
    { format: 'png', encoder: 'sharp 0.35 (libpng)', run: () => sharp(raw, rawInput).png().toBuffer(), quality: same, metadata: () => 'no text chunks (EXIF/XMP only)' },
    { format: 'jpeg', encoder: '@sdxs/image encodeJpeg (MozJPEG wasm) q90', run: () => encodeJpeg(image, { quality: 90, comment: TEXT }), quality: jpegPsnr, metadata: () => 'EXIF UserComment: kept' },
    { format: 'jpeg', encoder: 'jpeg-js q90', run: () => jpegJs.encode({ data: raw, width: size, height: size }, 90).data, quality: jpegPsnr, metadata: () => 'none' },
    { format: 'jpeg', encoder: 'sharp (libjpeg-turbo) q90', run: () => sharp(raw, rawInput).jpeg({ quality: 90 }).toBuffer(), quality: jpegPsnr, metadata: () => 'EXIF via withExif' },
    { format: 'webp', encoder: '@sdxs/image encodeWebp (libwebp wasm) q90', run: () => encodeWebp(image, { quality: 90, comment: TEXT }), quality: webpPsnr, metadata: () => 'EXIF UserComment: kept' },
    { format: 'webp', encoder: 'sharp (libwebp) q90', run: () => sharp(raw, rawInput).webp({ quality: 90 }).toBuffer(), quality: webpPsnr, metadata: () => 'EXIF via withExif' },
  ];
  // Interleaved: every candidate once per round, so load changes hit them alike.
  const times = candidates.map(() => [] as number[]);
  const outs: Uint8Array[] = [];
  for (const [i, c] of candidates.entries()) outs[i] = await c.run(); // warm-up (codec loading)
  for (let r = 0; r < runs; r++)
    for (const [i, c] of candidates.entries()) {
      const t0 = performance.now();
      outs[i] = await c.run();
      times[i]!.push(performance.now() - t0);
    }
  const rows: EncoderRow[] = [];
  for (const [i, c] of candidates.entries()) {
    const out = outs[i]!;
    rows.push({ format: c.format, encoder: c.encoder, ms: median(times[i]!), kib: out.length / 1024, quality: await c.quality(out), metadata: c.metadata(out) });
    log(`  ${c.encoder}: ${median(times[i]!).toFixed(1)} ms, ${(out.length / 1024).toFixed(0)} KiB`);
  }
  // The deflate step alone, on bytes like the filtered rows.
  const rows8 = new Uint8Array(raw.length);
  for (let i = 4; i < raw.length; i++) rows8[i] = (raw[i]! - raw[i - 4]!) & 255;
  const z = await time(runs, () => deflate(rows8, 6));
  const f = await time(runs, () => fflateDeflate(rows8, 6));
  return { size, rows, deflate: { zlib_ms: z.ms, fflate_ms: f.ms, zlib_bytes: z.out.length, fflate_bytes: f.out.length } };
}
