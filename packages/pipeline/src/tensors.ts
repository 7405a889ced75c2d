/** The few tensor manipulations the pipeline does in TypeScript, each as diffusers does it in torch. */
import { Tensor, type RawImage } from '@sdxs/tensor';

/**
 * `x · s` in float32 (`latents * scheduler.init_noise_sigma`): the double product of two float32 numbers is
 * exact, so one rounding gives torch's float32 result.
 */
export function scaleTensor(x: Tensor<'float32'>, s: number): Tensor<'float32'> {
  if (s === 1) return x;
  const k = Math.fround(s);
  const out = new Float32Array(x.size);
  const d = x.data;
  for (let i = 0; i < out.length; i++) out[i] = d[i]! * k;
  return new Tensor('float32', x.shape, out);
}

/**
 * Each row (first-axis entry) `n` times in a row: `embeds.repeat(1, n, 1).view(B * n, T, -1)` in
 * encode_prompt, so prompt 0's images come first.
 */
export function repeatRows(x: Tensor<'float32'>, n: number): Tensor<'float32'> {
  if (n === 1) return x;
  const rows = x.shape[0] ?? 0;
  const width = rows === 0 ? 0 : x.size / rows;
  const out = new Float32Array(x.size * n);
  for (let r = 0; r < rows; r++) {
    const row = x.data.subarray(r * width, (r + 1) * width);
    for (let k = 0; k < n; k++) out.set(row, (r * n + k) * width);
  }
  return new Tensor('float32', [rows * n, ...x.shape.slice(1)], out);
}

/** `torch.cat(parts)` along the first axis. */
export function concatRows(...parts: Tensor<'float32'>[]): Tensor<'float32'> {
  const first = parts[0];
  if (!first) throw new RangeError('concatRows: nothing to concatenate');
  const rest = first.shape.slice(1).join();
  for (const t of parts) if (t.shape.slice(1).join() !== rest) throw new RangeError(`concatRows: [${first.shape}] and [${t.shape}] differ beyond the first axis`);
  const out = new Float32Array(parts.reduce((n, t) => n + t.size, 0));
  let at = 0;
  for (const t of parts) {
    out.set(t.data, at);
    at += t.size;
  }
  return new Tensor('float32', [parts.reduce((n, t) => n + (t.shape[0] ?? 0), 0), ...first.shape.slice(1)], out);
}

/** [N, H, W, 4] uint8 → N RGBA images, views of the tensor's buffer (no copy). */
export function splitImages(rgba: Tensor): RawImage[] {
  const [n, height, width, channels] = rgba.shape;
  if (!(rgba.data instanceof Uint8Array) || n === undefined || height === undefined || width === undefined || channels !== 4) {
    throw new RangeError(`expected uint8 [N, H, W, 4] pixels, got ${rgba.dtype}[${rgba.shape.join(', ')}]`);
  }
  const size = height * width * 4;
  const { buffer, byteOffset } = rgba.data;
  const images: RawImage[] = [];
  for (let i = 0; i < n; i++) images.push({ width, height, data: new Uint8ClampedArray(buffer, byteOffset + i * size, size) });
  return images;
}
