// JPEG and WebP out with the generation parameters as the EXIF UserComment (where A1111 puts them), checked with
// decoders and EXIF readers that are not ours: jpeg-js, libwebp's decoder (@jsquash/webp), exifr, exif-reader.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { picture, psnr } from './_pictures.js';
import jpegJs from 'jpeg-js';
import exifr from 'exifr';
import exifReader from 'exif-reader';
import decodeWebp, { init as initWebpDecode } from '@jsquash/webp/decode.js';
import { encodeJpeg, encodeWebp, encodePng, ImageFormatError, readUserComment, userCommentTiff, webpWithComment } from '@sdxs/image';

const require = createRequire(new URL('../package.json', import.meta.url));

const TEXT = 'a red cat, 一只猫 🐱\nNegative prompt: blurry\nSteps: 1, Sampler: Euler, CFG scale: 0.0, Seed: 42, Size: 96x64';

/** The EXIF chunk of a WebP file, found by walking its RIFF chunks here (not with the module under test). */
function webpExifChunk(bytes: Uint8Array): Uint8Array | undefined {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 12; at + 8 <= bytes.length; ) {
    const size = v.getUint32(at + 4, true);
    if (String.fromCharCode(...bytes.subarray(at, at + 4)) === 'EXIF') return bytes.subarray(at + 8, at + 8 + size);
    at += 8 + size + (size & 1);
  }
  return undefined;
}

/** exif-reader's UserComment: "UNICODE\0" + UTF-16BE, decoded here. */
function userComment(exif: { Photo?: { UserComment?: Uint8Array } }): string {
  const raw = exif.Photo?.UserComment;
  if (!raw) throw new Error('no UserComment');
  expect(Buffer.from(raw.subarray(0, 8)).toString('latin1')).toBe('UNICODE\0');
  let s = '';
  for (let i = 8; i + 1 < raw.length; i += 2) s += String.fromCharCode((raw[i]! << 8) | raw[i + 1]!);
  return s;
}

describe('encodeJpeg', () => {
  it('MozJPEG at quality 90 decodes (jpeg-js) within 30 dB; the parameters read back (exifr and readUserComment)', async () => {
    const image = picture(96, 64);
    const jpeg = await encodeJpeg(image, { quality: 90, comment: TEXT });
    expect([jpeg[0], jpeg[1]]).toEqual([0xff, 0xd8]);
    const decoded = jpegJs.decode(jpeg, { useTArray: true, formatAsRGBA: true });
    expect([decoded.width, decoded.height]).toEqual([96, 64]);
    expect(psnr(image.data, decoded.data)).toBeGreaterThan(30);
    expect(readUserComment(jpeg)).toBe(TEXT);
    const exif = (await exifr.parse(Buffer.from(jpeg), true)) as { userComment?: Uint8Array };
    expect(exif.userComment).toBeDefined();
    expect(userComment({ Photo: { UserComment: exif.userComment! } })).toBe(TEXT);
  });

  it('lower quality, smaller file; no comment, no EXIF', async () => {
    const image = picture(128, 128);
    const [low, high] = [await encodeJpeg(image, { quality: 40 }), await encodeJpeg(image, { quality: 95 })];
    expect(low.length).toBeLessThan(high.length);
    expect(readUserComment(high)).toBeUndefined();
  });

  it('refuses bad input with the field named', async () => {
    await expect(encodeJpeg(picture(8, 8), { quality: 101 })).rejects.toThrow(/quality must be 0–100/);
    await expect(encodeJpeg({ width: 8, height: 8, data: new Uint8ClampedArray(10) })).rejects.toThrow(/expected 8×8 RGBA \(256 bytes\), got 10 bytes/);
  });
});

describe('encodeWebp', () => {
  it('lossy at quality 90: libwebp decodes the extended file within 30 dB; the EXIF chunk holds the parameters (exif-reader)', async () => {
    await initWebpDecode({ wasmBinary: readFileSync(require.resolve('@jsquash/webp/codec/dec/webp_dec.wasm')) } as never);
    const image = picture(96, 64);
    const webp = await encodeWebp(image, { quality: 90, comment: TEXT });
    expect(Buffer.from(webp.subarray(12, 16)).toString('latin1')).toBe('VP8X');
    expect(webp[20]! & 0x08).toBe(0x08); // the EXIF flag
    expect(new DataView(webp.buffer, webp.byteOffset).getUint32(4, true)).toBe(webp.length - 8);
    const decoded = await decodeWebp(webp.buffer.slice(webp.byteOffset, webp.byteOffset + webp.length) as ArrayBuffer);
    expect([decoded.width, decoded.height]).toEqual([96, 64]);
    expect(psnr(image.data, decoded.data)).toBeGreaterThan(30);
    expect(readUserComment(webp)).toBe(TEXT);
    const chunk = webpExifChunk(webp)!;
    expect(userComment(exifReader(Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), chunk])) as never)).toBe(TEXT);
  });

  it('lossless keeps every pixel', async () => {
    const image = picture(40, 24);
    const webp = await encodeWebp(image, { lossless: true, comment: 'x' });
    const decoded = await decodeWebp(webp.buffer.slice(webp.byteOffset, webp.byteOffset + webp.length) as ArrayBuffer);
    expect(Buffer.from(decoded.data).equals(Buffer.from(image.data))).toBe(true);
    expect(readUserComment(webp)).toBe('x');
  });

  it('reads A1111-written WebP, whose EXIF chunk keeps the "Exif\\0\\0" prefix', async () => {
    const plain = await encodeWebp(picture(16, 16));
    const ours = webpWithComment(plain, 16, 16, 'old');
    const chunk = webpExifChunk(ours)!;
    const prefixed = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), chunk]);
    const rebuilt = Buffer.from(ours);
    // Swap the chunk for the prefixed one and fix the sizes.
    const at = rebuilt.indexOf(Buffer.from('EXIF', 'latin1'), 12);
    const file = Buffer.concat([rebuilt.subarray(0, at), Buffer.from('EXIF', 'latin1'), Buffer.alloc(4), prefixed, Buffer.alloc(prefixed.length & 1)]);
    file.writeUInt32LE(prefixed.length, at + 4);
    file.writeUInt32LE(file.length - 8, 4);
    expect(readUserComment(file)).toBe('old');
  });

  it('files it cannot read are one clear error', () => {
    expect(() => readUserComment(encodePng(picture(4, 4)))).toThrow(ImageFormatError);
    expect(() => webpWithComment(Uint8Array.of(1, 2, 3), 1, 1, 'x')).toThrow(/not a WebP file/);
    expect(userCommentTiff('ab').length).toBe(8 + 18 + 18 + 8 + 4);
  });
});
