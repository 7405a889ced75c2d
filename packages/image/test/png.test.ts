import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodePng, encodeChunk, encodePng, PNG_SIGNATURE, PngError, readChunks, readPngText } from '@sdxs/image';

/** Deterministic pseudo-random bytes (a tiny LCG), so failures reproduce. */
function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

interface Header {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlace?: number;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/**
 * A PNG written the plain way (filter 0 on every row, optional Adam7), independent of the encoder under test:
 * `sample(x, y, k)` gives channel k of pixel (x, y) at the header's bit depth.
 */
function plainPng(h: Header, sample: (x: number, y: number, k: number) => number, extra: [string, Uint8Array][] = []): Uint8Array {
  const ch = CHANNELS[h.colorType]!;
  const passes = h.interlace ? ADAM7 : [[0, 0, 1, 1]];
  const rows: number[] = [];
  for (const [x0, y0, dx, dy] of passes as number[][]) {
    const w = Math.ceil((h.width - x0!) / dx!);
    const hh = Math.ceil((h.height - y0!) / dy!);
    if (w <= 0 || hh <= 0) continue;
    for (let j = 0; j < hh; j++) {
      rows.push(0);
      let acc = 0;
      let bits = 0;
      for (let i = 0; i < w; i++) {
        for (let k = 0; k < ch; k++) {
          const v = sample(x0! + i * dx!, y0! + j * dy!, k);
          if (h.depth === 16) rows.push(v >> 8, v & 255);
          else {
            acc = (acc << h.depth) | v;
            bits += h.depth;
            if (bits === 8) {
              rows.push(acc);
              acc = 0;
              bits = 0;
            }
          }
        }
      }
      if (bits > 0) rows.push(acc << (8 - bits));
    }
  }
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, h.width);
  new DataView(ihdr.buffer).setUint32(4, h.height);
  ihdr.set([h.depth, h.colorType, 0, 0, h.interlace ?? 0], 8);
  return Buffer.concat([
    PNG_SIGNATURE,
    encodeChunk('IHDR', ihdr),
    ...extra.map(([t, d]) => encodeChunk(t, d)),
    encodeChunk('IDAT', deflateSync(Uint8Array.from(rows))),
    encodeChunk('IEND', new Uint8Array(0)),
  ]);
}

function rgbaOf(width: number, height: number, f: (x: number, y: number) => [number, number, number, number]): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out.set(f(x, y), (y * width + x) * 4);
  return out;
}

describe('encodePng', () => {
  it('round-trips opaque pixels as colour type 2 (RGB) and translucent ones as 6 (RGBA)', () => {
    const opaque = bytes(37 * 23 * 4, 7).map((v, i) => (i % 4 === 3 ? 255 : v));
    const png = encodePng({ width: 37, height: 23, data: opaque });
    expect(png[25]).toBe(2); // IHDR colour type byte
    expect(decodePng(png)).toMatchObject({ width: 37, height: 23, data: opaque });

    const translucent = bytes(19 * 5 * 4, 9);
    const png2 = encodePng({ width: 19, height: 5, data: translucent });
    expect(png2[25]).toBe(6);
    expect(decodePng(png2).data).toEqual(translucent);
  });

  it('chooses per-row filters that smooth gradients (smaller than the raw pixels) and still decode exactly', () => {
    const w = 256;
    const data = rgbaOf(w, 64, (x, y) => [x, (x + y) & 255, (2 * y) & 255, 255]);
    const png = encodePng({ width: w, height: 64, data });
    expect(png.length).toBeLessThan(w * 64 * 3 / 20);
    expect(decodePng(png).data).toEqual(data);
  });

  it('writes tEXt for Latin-1 text and iTXt (UTF-8) otherwise, as Pillow does, before the image data', () => {
    const png = encodePng({ width: 1, height: 1, data: Uint8Array.of(1, 2, 3, 255) }, { text: [['parameters', 'café, 7.0'], ['sdxs', '猫 🐱 "quoted"\nline 2'], ['nul', 'a\0b']] });
    const types = [...readChunks(png)].map((c) => c.type);
    expect(types).toEqual(['IHDR', 'tEXt', 'iTXt', 'tEXt', 'IDAT', 'IEND']);
    expect(readPngText(png)).toEqual({ parameters: 'café, 7.0', sdxs: '猫 🐱 "quoted"\nline 2', nul: 'ab' });
    expect(decodePng(png).text.sdxs).toBe('猫 🐱 "quoted"\nline 2');
    expect(() => encodePng({ width: 1, height: 1, data: new Uint8Array(4) }, { text: [['bad key ', 'x']] })).toThrow(TypeError);
  });

  it('refuses a buffer of the wrong length', () => {
    expect(() => encodePng({ width: 2, height: 2, data: new Uint8Array(15) })).toThrow(/needs 16 bytes/);
  });
});

describe('decodePng reads what other encoders write', () => {
  it('Adam7-interlaced RGBA, including passes that are empty for small images', () => {
    for (const [w, h] of [[13, 11], [1, 1], [3, 2], [9, 1]] as const) {
      const px = bytes(w * h * 4, w * 31 + h);
      const png = plainPng({ width: w, height: h, depth: 8, colorType: 6, interlace: 1 }, (x, y, k) => px[(y * w + x) * 4 + k]!);
      expect(decodePng(png).data).toEqual(px);
    }
  });

  it('16-bit RGB keeps the high byte; grey + alpha; 1-bit grey scales to 0/255', () => {
    const rgb16 = plainPng({ width: 3, height: 2, depth: 16, colorType: 2 }, (x, y, k) => (x * 1000 + y * 300 + k * 7000) & 0xffff);
    const d = decodePng(rgb16).data;
    expect([d[0], d[1], d[2], d[3]]).toEqual([0, (7000 >> 8) & 255, (14000 >> 8) & 255, 255]);
    expect(d[4 * 4]).toBe((1000 + 300) >> 8);

    const ga = plainPng({ width: 2, height: 1, depth: 8, colorType: 4 }, (x, _y, k) => (k === 0 ? 100 + x : 50));
    expect([...decodePng(ga).data]).toEqual([100, 100, 100, 50, 101, 101, 101, 50]);

    const bits = plainPng({ width: 10, height: 1, depth: 1, colorType: 0 }, (x) => x % 2);
    expect([...decodePng(bits).data].filter((_, i) => i % 4 === 0)).toEqual([0, 255, 0, 255, 0, 255, 0, 255, 0, 255]);
  });

  it('palette images with tRNS transparency; an index past the palette is an error', () => {
    const plte = Uint8Array.of(255, 0, 0, 0, 255, 0, 0, 0, 255);
    const png = plainPng({ width: 3, height: 1, depth: 2, colorType: 3 }, (x) => x, [['PLTE', plte], ['tRNS', Uint8Array.of(0, 128)]]);
    expect([...decodePng(png).data]).toEqual([255, 0, 0, 0, 0, 255, 0, 128, 0, 0, 255, 255]);
    const bad = plainPng({ width: 1, height: 1, depth: 2, colorType: 3 }, () => 3, [['PLTE', plte]]);
    expect(() => decodePng(bad)).toThrow(/palette index 3/);
  });
});

describe('decodePng refuses hostile or damaged files (RELIABILITY items 19–20)', () => {
  it('rejects over-the-cap dimensions from the header, before inflating anything', () => {
    const ihdr = new Uint8Array(13);
    new DataView(ihdr.buffer).setUint32(0, 100_000);
    new DataView(ihdr.buffer).setUint32(4, 100_000);
    ihdr.set([8, 6, 0, 0, 0], 8);
    // The IDAT is garbage: were it inflated, the error would be a zlib one, not the cap.
    const png = Buffer.concat([PNG_SIGNATURE, encodeChunk('IHDR', ihdr), encodeChunk('IDAT', bytes(100)), encodeChunk('IEND', new Uint8Array(0))]);
    const t0 = performance.now();
    expect(() => decodePng(png)).toThrow(/100000×100000 pixels is over the limit of 268402689/);
    expect(performance.now() - t0).toBeLessThan(50);
    const small = encodePng({ width: 64, height: 64, data: new Uint8Array(64 * 64 * 4) });
    expect(() => decodePng(small, { maxPixels: 4095 })).toThrow(PngError);
  });

  it('stops a decompression bomb at the size the header implies', () => {
    // 2000×2000 RGBA needs 16 MB; the IDAT inflates to 256 MB of zeros from ~250 kB.
    const ihdr = new Uint8Array(13);
    new DataView(ihdr.buffer).setUint32(0, 2000);
    new DataView(ihdr.buffer).setUint32(4, 2000);
    ihdr.set([8, 6, 0, 0, 0], 8);
    const bomb = deflateSync(new Uint8Array(256 * 1024 * 1024), { level: 9 });
    expect(bomb.length).toBeLessThan(300_000);
    const png = Buffer.concat([PNG_SIGNATURE, encodeChunk('IHDR', ihdr), encodeChunk('IDAT', bomb), encodeChunk('IEND', new Uint8Array(0))]);
    const t0 = performance.now();
    expect(() => decodePng(png)).toThrow(/does not inflate to the 16002000 bytes/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('truncation, CRC damage, a wrong signature, a missing IDAT and a bad filter type are errors', () => {
    const good = encodePng({ width: 8, height: 8, data: bytes(256, 3) });
    for (const cut of [7, 20, 40, good.length - 13, good.length - 1]) expect(() => decodePng(good.subarray(0, cut))).toThrow(PngError);
    const flipped = Uint8Array.from(good);
    flipped[40] = flipped[40]! ^ 1;
    expect(() => decodePng(flipped)).toThrow(/CRC mismatch|corrupt/);
    expect(() => decodePng(new TextEncoder().encode('GIF89a………………'))).toThrow(/not a PNG/);
    const ihdr = [...readChunks(good)][0]!;
    const noData = Buffer.concat([PNG_SIGNATURE, encodeChunk('IHDR', ihdr.data), encodeChunk('IEND', new Uint8Array(0))]);
    expect(() => decodePng(noData)).toThrow(/no image data/);
    const badFilter = Buffer.concat([PNG_SIGNATURE, encodeChunk('IHDR', ihdr.data), encodeChunk('IDAT', deflateSync(new Uint8Array(8 * 33).fill(9))), encodeChunk('IEND', new Uint8Array(0))]);
    expect(() => decodePng(badFilter)).toThrow(/filter type 9/);
  });

  it('fuzzed files fail with a PngError (never another exception, never a hang)', () => {
    const good = encodePng({ width: 16, height: 16, data: bytes(1024, 5) }, { text: [['k', 'v']] });
    const t0 = performance.now();
    for (let i = 0; i < 300; i++) {
      const m = Uint8Array.from(good);
      const r = bytes(4, i + 100);
      m[8 + (((r[0]! << 8) | r[1]!) % (m.length - 8))] = r[2]!;
      try {
        decodePng(m);
      } catch (e) {
        expect(e).toBeInstanceOf(PngError);
      }
    }
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
