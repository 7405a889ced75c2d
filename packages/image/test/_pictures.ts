// Test images for the codecs: a smooth picture with texture, as generated images are (noise alone would favour no
// codec), and PSNR over the colour channels.

export function picture(width: number, height: number): { width: number; height: number; data: Uint8ClampedArray } {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = 4 * (y * width + x);
      data[i] = 128 + 100 * Math.sin(x / 9 + y / 13);
      data[i + 1] = 128 + 90 * Math.cos(x / 7 - y / 17);
      data[i + 2] = (x * 255) / width;
      data[i + 3] = 255;
    }
  return { width, height, data };
}

/** PSNR in dB of `b` against `a`, alpha left out. */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let se = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % 4 === 3) continue;
    se += (a[i]! - b[i]!) ** 2;
    n++;
  }
  return 10 * Math.log10((255 * 255) / (se / n));
}
