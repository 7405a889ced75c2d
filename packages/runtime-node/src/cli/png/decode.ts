/**
 * A bounded PNG reader for images users hand to the CLI (RELIABILITY items 19–20): the IHDR's dimensions are
 * checked against a pixel cap before anything is inflated, and inflation stops at exactly the bytes those
 * dimensions need, so a small-file bomb fails fast instead of allocating gigabytes. Every chunk is
 * CRC-checked; all colour types and bit depths and Adam7 interlacing are read, into 8-bit RGBA.
 */
import { inflateSync } from 'node:zlib';
import { PngError, readChunks, type PngChunk } from './chunks.js';
import type { RgbaImage } from './encode.js';
import { decodeTextChunk } from './text.js';

/** Largest pixel count accepted by default (sharp's default cap: 0x3FFF × 0x3FFF). */
export const DEFAULT_MAX_PIXELS = 268_402_689;

export interface DecodePngOptions {
  /** Refuse images with more pixels than this (default {@link DEFAULT_MAX_PIXELS}). */
  readonly maxPixels?: number;
}

export interface DecodedPng extends RgbaImage {
  /** Text chunks by keyword (the last one wins when a keyword repeats). */
  readonly text: Readonly<Record<string, string>>;
}

interface Header {
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  readonly colorType: number;
  readonly interlace: number;
}

/** Samples per pixel of each colour type. */
const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Readonly<Record<number, readonly number[]>> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
// Adam7 passes: x0, y0, dx, dy.
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

function parseHeader(chunk: PngChunk | undefined, maxPixels: number): Header {
  if (chunk?.type !== 'IHDR' || chunk.data.length !== 13) throw new PngError('corrupt PNG: the first chunk is not a 13-byte IHDR');
  const v = new DataView(chunk.data.buffer, chunk.data.byteOffset, 13);
  const h: Header = { width: v.getUint32(0), height: v.getUint32(4), depth: chunk.data[8]!, colorType: chunk.data[9]!, interlace: chunk.data[12]! };
  if (h.width < 1 || h.height < 1 || h.width > 2 ** 31 - 1 || h.height > 2 ** 31 - 1) throw new PngError(`corrupt PNG: image size ${h.width}×${h.height}`);
  if (h.width * h.height > maxPixels) throw new PngError(`PNG of ${h.width}×${h.height} pixels is over the limit of ${maxPixels} pixels`);
  if (!DEPTHS[h.colorType]?.includes(h.depth)) throw new PngError(`corrupt PNG: colour type ${h.colorType} with bit depth ${h.depth}`);
  if (chunk.data[10] !== 0 || chunk.data[11] !== 0 || h.interlace > 1) throw new PngError('corrupt PNG: unknown compression, filter or interlace method');
  return h;
}

/** Sizes of the (sub)images stored: one, or Adam7's seven passes (empty ones skipped by the format). */
function passes(h: Header): { x0: number; y0: number; dx: number; dy: number; w: number; rows: number }[] {
  const list = h.interlace ? ADAM7 : ([[0, 0, 1, 1]] as const);
  return list
    .map(([x0, y0, dx, dy]) => ({ x0, y0, dx, dy, w: Math.ceil((h.width - x0) / dx), rows: Math.ceil((h.height - y0) / dy) }))
    .filter((p) => p.w > 0 && p.rows > 0);
}

function unfilter(raw: Uint8Array, at: number, rowBytes: number, rows: number, bpp: number): Uint8Array {
  const out = new Uint8Array(rowBytes * rows);
  for (let y = 0; y < rows; y++) {
    const f = raw[at + y * (rowBytes + 1)]!;
    const src = at + y * (rowBytes + 1) + 1;
    const o = y * rowBytes;
    for (let i = 0; i < rowBytes; i++) {
      const x = raw[src + i]!;
      const a = i >= bpp ? out[o + i - bpp]! : 0;
      const b = y > 0 ? out[o - rowBytes + i]! : 0;
      let v: number;
      if (f === 0) v = x;
      else if (f === 1) v = x + a;
      else if (f === 2) v = x + b;
      else if (f === 3) v = x + ((a + b) >> 1);
      else if (f === 4) {
        const c = i >= bpp && y > 0 ? out[o - rowBytes + i - bpp]! : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      } else throw new PngError(`corrupt PNG: filter type ${f} in row ${y}`);
      out[o + i] = v;
    }
  }
  return out;
}

/**
 * Decode a PNG into 8-bit RGBA (16-bit samples keep their high byte; palette and tRNS transparency applied),
 * plus its text chunks.
 *
 * @example
 * const { width, height, data, text } = decodePng(await readFile('out.png'));
 * console.log(text.parameters);
 */
export function decodePng(bytes: Uint8Array, options: DecodePngOptions = {}): DecodedPng {
  const chunks = readChunks(bytes);
  const h = parseHeader(chunks.next().value ?? undefined, options.maxPixels ?? DEFAULT_MAX_PIXELS);
  const channels = CHANNELS[h.colorType]!;
  const bitsPerPixel = channels * h.depth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const idat: Uint8Array[] = [];
  const text: Record<string, string> = {};
  let palette: Uint8Array | undefined;
  let trns: Uint8Array | undefined;
  for (const c of chunks) {
    if (c.type === 'IDAT') idat.push(c.data);
    else if (c.type === 'PLTE') palette = c.data;
    else if (c.type === 'tRNS') trns = c.data;
    else {
      const t = decodeTextChunk(c);
      if (t) text[t.keyword] = t.text;
    }
  }
  if (idat.length === 0) throw new PngError('corrupt PNG: no image data (IDAT)');
  if (h.colorType === 3 && (!palette || palette.length % 3 !== 0 || palette.length === 0)) throw new PngError('corrupt PNG: palette image without a valid PLTE chunk');
  const layout = passes(h).map((p) => ({ ...p, rowBytes: Math.ceil((p.w * bitsPerPixel) / 8) }));
  const expected = layout.reduce((n, p) => n + p.rows * (p.rowBytes + 1), 0);
  let raw: Buffer;
  try {
    // maxOutputLength: the dimensions say how much there is; more is a bomb or corruption, and stops here.
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: expected });
  } catch (e) {
    throw new PngError(`corrupt PNG: image data does not inflate to the ${expected} bytes its header implies (${e instanceof Error ? e.message : String(e)})`);
  }
  if (raw.length !== expected) throw new PngError(`truncated PNG: image data holds ${raw.length} of ${expected} bytes`);

  const data = new Uint8Array(h.width * h.height * 4);
  const maxSample = (1 << h.depth) - 1;
  let at = 0;
  for (const p of layout) {
    const rows = unfilter(raw, at, p.rowBytes, p.rows, bpp);
    at += p.rows * (p.rowBytes + 1);
    for (let y = 0; y < p.rows; y++) {
      for (let x = 0; x < p.w; x++) {
        const sample = (k: number): number => {
          const bit = (x * channels + k) * h.depth;
          const byte = rows[y * p.rowBytes + (bit >> 3)]!;
          if (h.depth === 8) return byte;
          if (h.depth === 16) return byte; // high byte
          return (byte >> (8 - h.depth - (bit & 7))) & maxSample;
        };
        const o = ((p.y0 + y * p.dy) * h.width + p.x0 + x * p.dx) * 4;
        const scale = (s: number): number => (h.depth < 8 ? Math.round((s * 255) / maxSample) : s);
        let r: number, g: number, b: number, a = 255;
        if (h.colorType === 3) {
          const i = sample(0);
          if (i * 3 + 2 >= palette!.length) throw new PngError(`corrupt PNG: palette index ${i} past the palette's ${palette!.length / 3} entries`);
          [r, g, b] = [palette![i * 3]!, palette![i * 3 + 1]!, palette![i * 3 + 2]!];
          if (trns && i < trns.length) a = trns[i]!;
        } else if (h.colorType === 0 || h.colorType === 4) {
          r = g = b = scale(sample(0));
          if (h.colorType === 4) a = sample(1);
          else if (trns?.length === 2 && ((trns[0]! << 8) | trns[1]!) === rawSample(rows, y, x, 0, p.rowBytes, channels, h.depth)) a = 0;
        } else {
          [r, g, b] = [sample(0), sample(1), sample(2)];
          if (h.colorType === 6) a = sample(3);
          else if (trns?.length === 6 && [0, 1, 2].every((k) => ((trns![2 * k]! << 8) | trns![2 * k + 1]!) === rawSample(rows, y, x, k, p.rowBytes, channels, h.depth))) a = 0;
        }
        data[o] = r;
        data[o + 1] = g;
        data[o + 2] = b;
        data[o + 3] = a;
      }
    }
  }
  return { width: h.width, height: h.height, data, text };
}

/** A sample at full precision (for tRNS colour keys, which compare unscaled values). */
function rawSample(rows: Uint8Array, y: number, x: number, k: number, rowBytes: number, channels: number, depth: number): number {
  const bit = (x * channels + k) * depth;
  const at = y * rowBytes + (bit >> 3);
  if (depth === 16) return (rows[at]! << 8) | rows[at + 1]!;
  if (depth === 8) return rows[at]!;
  return (rows[at]! >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
}

/**
 * The text chunks of a PNG without decoding its pixels (chunks are still CRC-checked).
 *
 * @example
 * readPngText(await readFile('out.png')).parameters; // 'a cat\nSteps: 1, Sampler: Euler, …'
 */
export function readPngText(bytes: Uint8Array): Record<string, string> {
  const text: Record<string, string> = {};
  for (const c of readChunks(bytes)) {
    const t = decodeTextChunk(c);
    if (t) text[t.keyword] = t.text;
  }
  return text;
}
