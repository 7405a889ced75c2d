/**
 * A bounded PNG reader for images users hand to the CLI (RELIABILITY items 19–20): the IHDR's dimensions are
 * checked against a pixel cap before anything is inflated, and inflation stops at exactly the bytes those
 * dimensions need, so a small-file bomb fails fast instead of allocating gigabytes. Every chunk is
 * CRC-checked; all colour types and bit depths and Adam7 interlacing are read, into 8-bit RGBA.
 */
import { concatBytes, inflate } from '../zlib.js';
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

/** Undo the filters of one (sub)image's rows (PNG spec §9.2), one loop per filter type. */
function unfilter(raw: Uint8Array, at: number, rowBytes: number, rows: number, bpp: number): Uint8Array {
  const out = new Uint8Array(rowBytes * rows);
  const zero = new Uint8Array(rowBytes);
  for (let y = 0; y < rows; y++) {
    const f = raw[at + y * (rowBytes + 1)]!;
    const src = raw.subarray(at + y * (rowBytes + 1) + 1, at + (y + 1) * (rowBytes + 1));
    const cur = out.subarray(y * rowBytes, (y + 1) * rowBytes);
    const up = y > 0 ? out.subarray((y - 1) * rowBytes, y * rowBytes) : zero;
    if (f === 0) cur.set(src);
    else if (f === 1) for (let i = 0; i < rowBytes; i++) cur[i] = src[i]! + (i >= bpp ? cur[i - bpp]! : 0);
    else if (f === 2) for (let i = 0; i < rowBytes; i++) cur[i] = src[i]! + up[i]!;
    else if (f === 3) for (let i = 0; i < rowBytes; i++) cur[i] = src[i]! + (((i >= bpp ? cur[i - bpp]! : 0) + up[i]!) >> 1);
    else if (f === 4)
      for (let i = 0; i < rowBytes; i++) {
        const a = i >= bpp ? cur[i - bpp]! : 0;
        const b = up[i]!;
        const c = i >= bpp ? up[i - bpp]! : 0;
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        cur[i] = src[i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
    else throw new PngError(`corrupt PNG: filter type ${f} in row ${y}`);
  }
  return out;
}

/** A sample at full precision (for tRNS colour keys, which compare unscaled values). */
function rawSample(row: Uint8Array, x: number, k: number, channels: number, depth: number): number {
  const bit = (x * channels + k) * depth;
  const at = bit >> 3;
  if (depth === 16) return (row[at]! << 8) | row[at + 1]!;
  if (depth === 8) return row[at]!;
  return (row[at]! >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
}

interface Colour {
  readonly h: Header;
  readonly channels: number;
  readonly palette: Uint8Array | undefined;
  readonly trns: Uint8Array | undefined;
}

/** Write one unfiltered row's pixels as RGBA into `data`, from pixel `first`, `step` pixels apart. */
function expandRow(row: Uint8Array, width: number, data: Uint8Array, first: number, step: number, c: Colour): void {
  const { h, channels, palette, trns } = c;
  const { depth, colorType } = h;
  const shift = depth === 16 ? 1 : 0; // 16-bit: the high byte of each sample
  if (depth >= 8 && colorType === 6) {
    for (let x = 0, o = first * 4; x < width; x++, o += step * 4) {
      const s = (x * 4) << shift;
      data[o] = row[s]!;
      data[o + 1] = row[s + (1 << shift)]!;
      data[o + 2] = row[s + (2 << shift)]!;
      data[o + 3] = row[s + (3 << shift)]!;
    }
    return;
  }
  if (depth >= 8 && colorType === 2) {
    const key = trns?.length === 6 ? [0, 1, 2].map((k) => (trns[2 * k]! << 8) | trns[2 * k + 1]!) : undefined;
    for (let x = 0, o = first * 4; x < width; x++, o += step * 4) {
      const s = (x * 3) << shift;
      data[o] = row[s]!;
      data[o + 1] = row[s + (1 << shift)]!;
      data[o + 2] = row[s + (2 << shift)]!;
      data[o + 3] = key && key.every((v, k) => rawSample(row, x, k, 3, depth) === v) ? 0 : 255;
    }
    return;
  }
  const max = (1 << Math.min(depth, 8)) - 1;
  const greyKey = colorType === 0 && trns?.length === 2 ? (trns[0]! << 8) | trns[1]! : undefined;
  for (let x = 0, o = first * 4; x < width; x++, o += step * 4) {
    const v = depth === 16 ? row[(x * channels) << 1]! : rawSample(row, x, 0, channels, depth);
    if (colorType === 3) {
      if (v * 3 + 2 >= palette!.length) throw new PngError(`corrupt PNG: palette index ${v} past the palette's ${palette!.length / 3} entries`);
      data[o] = palette![v * 3]!;
      data[o + 1] = palette![v * 3 + 1]!;
      data[o + 2] = palette![v * 3 + 2]!;
      data[o + 3] = trns && v < trns.length ? trns[v]! : 255;
    } else {
      const grey = depth < 8 ? Math.round((v * 255) / max) : v;
      data[o] = data[o + 1] = data[o + 2] = grey;
      if (colorType === 4) data[o + 3] = depth === 16 ? row[((x * 2 + 1) << 1)]! : row[x * 2 + 1]!;
      else data[o + 3] = greyKey !== undefined && rawSample(row, x, 0, 1, depth) === greyKey ? 0 : 255;
    }
  }
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
  let raw: Uint8Array;
  try {
    // maxOutputLength: the dimensions say how much there is; more is a bomb or corruption, and stops here.
    raw = inflate(concatBytes(idat), expected);
  } catch (e) {
    throw new PngError(`corrupt PNG: image data does not inflate to the ${expected} bytes its header implies (${e instanceof Error ? e.message : String(e)})`);
  }
  if (raw.length !== expected) throw new PngError(`truncated PNG: image data holds ${raw.length} of ${expected} bytes`);

  const data = new Uint8Array(h.width * h.height * 4);
  const colour: Colour = { h, channels, palette, trns };
  let at = 0;
  for (const p of layout) {
    const rows = unfilter(raw, at, p.rowBytes, p.rows, bpp);
    at += p.rows * (p.rowBytes + 1);
    for (let y = 0; y < p.rows; y++) {
      expandRow(rows.subarray(y * p.rowBytes, (y + 1) * p.rowBytes), p.w, data, (p.y0 + y * p.dy) * h.width + p.x0, p.dx, colour);
    }
  }
  return { width: h.width, height: h.height, data, text };
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
