/** RGBA pixels as the pipeline returns them. */
export interface RgbaPixels {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

/**
 * An ImageData for a canvas (`ctx.putImageData`), sharing the bytes when they own a plain ArrayBuffer.
 *
 * @example
 * canvas.getContext('2d')!.putImageData(toImageData(image), 0, 0);
 */
export function toImageData(image: RgbaPixels): ImageData {
  const { width, height, data } = image;
  if (data.length !== width * height * 4) throw new RangeError(`expected ${width}×${height} RGBA pixels (${width * height * 4} bytes), got ${data.length}`);
  const owned = data.buffer instanceof ArrayBuffer ? new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) : new Uint8ClampedArray(data);
  return new ImageData(owned, width, height);
}

/**
 * An ImageBitmap (for `drawImage`, or to transfer to another worker or an OffscreenCanvas).
 *
 * @example
 * ctx.drawImage(await toImageBitmap(image), 0, 0);
 */
export function toImageBitmap(image: RgbaPixels): Promise<ImageBitmap> {
  return createImageBitmap(toImageData(image));
}
