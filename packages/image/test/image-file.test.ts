// Image files users hand in: PNG, JPEG or WebP by their magic bytes, sizes checked from the header before decoding,
// damaged files refused with an ImageFormatError (never another exception, never a hang).
import { describe, expect, it } from 'vitest';
import { picture, psnr } from './_pictures.js';
import { decodeImage, encodeJpeg, encodePng, encodeWebp, ImageFormatError, imageInfo } from '@sdxs/image';

const image = picture(72, 40);

describe('decodeImage', () => {
  it('reads PNG exactly, JPEG and WebP within 30 dB, with the parameters each carries', async () => {
    const png = await decodeImage(encodePng(image, { text: [['parameters', 'a cat']] }));
    expect(png).toMatchObject({ format: 'png', width: 72, height: 40, text: { parameters: 'a cat' } });
    expect(Buffer.from(png.data).equals(Buffer.from(image.data))).toBe(true);
    const jpeg = await decodeImage(await encodeJpeg(image, { quality: 90, comment: 'a dog, 一只狗' }));
    expect(jpeg).toMatchObject({ format: 'jpeg', width: 72, height: 40, text: { parameters: 'a dog, 一只狗' } });
    expect(psnr(jpeg.data, image.data)).toBeGreaterThan(30);
    const webp = await decodeImage(await encodeWebp(image, { quality: 90, comment: 'a bird' }));
    expect(webp).toMatchObject({ format: 'webp', width: 72, height: 40, text: { parameters: 'a bird' } });
    expect(psnr(webp.data, image.data)).toBeGreaterThan(30);
    const lossless = await decodeImage(await encodeWebp(image, { lossless: true }));
    expect(Buffer.from(lossless.data).equals(Buffer.from(image.data))).toBe(true);
    expect(lossless.text).toEqual({});
  });

  it('reads the size from each header: PNG IHDR, JPEG SOF, WebP VP8, VP8L and VP8X', async () => {
    expect(imageInfo(encodePng(image))).toEqual({ format: 'png', width: 72, height: 40 });
    expect(imageInfo(await encodeJpeg(image))).toEqual({ format: 'jpeg', width: 72, height: 40 });
    const vp8 = await encodeWebp(image);
    expect(Buffer.from(vp8.subarray(12, 16)).toString('latin1')).toBe('VP8 ');
    expect(imageInfo(vp8)).toEqual({ format: 'webp', width: 72, height: 40 });
    const vp8l = await encodeWebp(image, { lossless: true });
    expect(Buffer.from(vp8l.subarray(12, 16)).toString('latin1')).toBe('VP8L');
    expect(imageInfo(vp8l)).toEqual({ format: 'webp', width: 72, height: 40 });
    const vp8x = await encodeWebp(image, { comment: 'x' });
    expect(Buffer.from(vp8x.subarray(12, 16)).toString('latin1')).toBe('VP8X');
    expect(imageInfo(vp8x)).toEqual({ format: 'webp', width: 72, height: 40 });
  });

  it('refuses a header over the pixel cap before decoding anything (a JPEG claiming 60000×60000)', async () => {
    const jpeg = Buffer.from(await encodeJpeg(image));
    // MozJPEG writes progressive JPEG (SOF2); find whichever frame header there is.
    const sof = [0xc0, 0xc1, 0xc2].map((m) => jpeg.indexOf(Buffer.from([0xff, m]))).find((i) => i > 0)!;
    expect(sof).toBeGreaterThan(0);
    jpeg.writeUInt16BE(60000, sof + 5);
    jpeg.writeUInt16BE(60000, sof + 7);
    const t = performance.now();
    await expect(decodeImage(jpeg, { maxPixels: 4096 * 4096 })).rejects.toThrow(/JPEG of 60000×60000 pixels is over the limit of 16777216 pixels/);
    expect(performance.now() - t).toBeLessThan(50);
  });

  it('refuses other formats, truncated files and damaged headers with an ImageFormatError', async () => {
    await expect(decodeImage(Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'))).rejects.toThrow('not a PNG, JPEG or WebP file');
    const jpeg = await encodeJpeg(image);
    await expect(decodeImage(jpeg.subarray(0, jpeg.length >> 1))).rejects.toThrow(/truncated JPEG/);
    const webp = await encodeWebp(image);
    await expect(decodeImage(webp.subarray(0, 20))).rejects.toThrow(/truncated WebP/);
    await expect(decodeImage(webp.subarray(0, webp.length >> 1))).rejects.toBeInstanceOf(ImageFormatError);
    const png = encodePng(image);
    await expect(decodeImage(png.subarray(0, png.length - 20))).rejects.toBeInstanceOf(ImageFormatError);
  });

  it('fuzzed JPEG and WebP files decode or fail with an ImageFormatError, in bounded time', async () => {
    const sources = [await encodeJpeg(image, { comment: 'fuzz' }), await encodeWebp(image, { comment: 'fuzz' }), await encodeWebp(image, { lossless: true })];
    let s = 12345;
    const rand = (n: number) => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) % n);
    const t = performance.now();
    let refused = 0;
    for (let i = 0; i < 150; i++) {
      const bytes = Uint8Array.from(sources[i % sources.length]!);
      for (let k = 0; k <= rand(4); k++) bytes[rand(bytes.length)] = rand(256);
      try {
        const d = await decodeImage(bytes, { maxPixels: 1 << 20 });
        expect(d.data.length).toBe(d.width * d.height * 4);
      } catch (e) {
        expect(e, String(e)).toBeInstanceOf(ImageFormatError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
    expect(performance.now() - t).toBeLessThan(10_000);
  });
});
