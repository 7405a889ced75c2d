import { Tensor } from '@sdxs/tensor';
import { caption } from './caption.js';
import type { Placement } from './geometry.js';
import { SampleRandom } from './random.js';
import { renderShape, type RgbImage } from './render.js';
import { sketchOutline } from './sketch.js';
import { COLOR_RGB, COLORS, SHAPES, type ColorName, type ShapeAttributes } from './vocabulary.js';

/** Image side of the data set. */
export const SHAPES_IMAGE_SIZE = 64;

/** One sample: the image, its caption, the attributes the caption names, the placement, and the sketch condition. */
export interface ShapeSample {
  readonly image: RgbImage;
  readonly caption: string;
  readonly attributes: ShapeAttributes;
  readonly placement: Placement;
  /** The outline as drawn strokes, white on black (the ControlNet condition). */
  readonly sketch: RgbImage;
}

export interface SampleOptions {
  /** Force some attributes (e.g. to render a prompt's attributes); the rest are drawn. */
  readonly attributes?: Partial<ShapeAttributes>;
  /** Image side (default 64). */
  readonly size?: number;
}

/** Splits of the data set by seed: training draws from TRAIN, held-out evaluation from TEST (disjoint streams). */
export const SPLIT_SEEDS = { train: 0, validation: 1, test: 2 } as const;

function jitterColor(c: ColorName, rng: SampleRandom): number[] {
  return COLOR_RGB[c].map((v) => Math.max(0, Math.min(255, Math.round(v + rng.uniform(-12, 12)))));
}

/**
 * Sample `index` of the data set with `seed`: deterministic (the same bytes on every machine and in any order),
 * independent of every other index. Object and background colours always differ.
 *
 * @example
 * const s = shapeSample(0, 42); // s.caption: "a crimson box on a blue backdrop", s.image: 64×64 RGB
 */
export function shapeSample(seed: number, index: number, options: SampleOptions = {}): ShapeSample {
  const size = options.size ?? SHAPES_IMAGE_SIZE;
  const rng = new SampleRandom(seed, index);
  const forced = options.attributes ?? {};
  const shape = forced.shape ?? rng.pick(SHAPES);
  let color = forced.color ?? rng.pick(COLORS);
  let background = forced.background ?? rng.pick(COLORS);
  while (background === color) {
    if (forced.background === undefined) background = rng.pick(COLORS);
    else if (forced.color === undefined) color = rng.pick(COLORS);
    else throw new RangeError(`shapeSample: the object and background colours must differ, both are ${color}`);
  }
  const scale = size / SHAPES_IMAGE_SIZE;
  const r = rng.uniform(8, 22) * scale;
  const margin = r * 1.3 + 1;
  const placement: Placement = {
    r,
    cx: rng.uniform(margin, size - margin),
    cy: rng.uniform(margin, size - margin),
    angle: shape === 'circle' ? 0 : rng.uniform(-0.35, 0.35),
  };
  const attributes = { shape, color, background };
  const image = renderShape(size, shape, placement, jitterColor(color, rng), jitterColor(background, rng));
  const text = caption(attributes, rng);
  const sketch = sketchOutline(size, shape, placement, rng);
  return { image, caption: text, attributes, placement, sketch };
}

/** RGB images → float32 [N, 3, H, W] in [−1, 1] (the VAE's input range). */
export function imagesToTensor(images: readonly RgbImage[]): Tensor<'float32'> {
  if (images.length === 0) throw new RangeError('imagesToTensor: no images');
  const { width: w, height: h } = images[0]!;
  const plane = w * h;
  const out = new Float32Array(images.length * 3 * plane);
  images.forEach((im, n) => {
    if (im.width !== w || im.height !== h) throw new RangeError(`imagesToTensor: image ${n} is ${im.width}×${im.height}, expected ${w}×${h}`);
    for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[(n * 3 + c) * plane + p] = im.data[p * 3 + c]! / 127.5 - 1;
  });
  return new Tensor('float32', [images.length, 3, h, w], out);
}

/** float32 [N, 3, H, W] in [−1, 1] → RGB images (rounded, clamped). */
export function tensorToImages(t: Tensor<'float32'>): RgbImage[] {
  const [n, c, h, w] = t.shape as [number, number, number, number];
  if (c !== 3) throw new RangeError(`tensorToImages: expected 3 channels, got ${c}`);
  const plane = h * w;
  const images: RgbImage[] = [];
  for (let i = 0; i < n; i++) {
    const data = new Uint8Array(plane * 3);
    for (let p = 0; p < plane; p++) for (let k = 0; k < 3; k++) data[p * 3 + k] = Math.max(0, Math.min(255, Math.round((t.data[(i * 3 + k) * plane + p]! + 1) * 127.5)));
    images.push({ width: w, height: h, data });
  }
  return images;
}

/** RGBA bytes (what the pipeline returns) → RGB. */
export function rgbaToRgb(width: number, height: number, rgba: Uint8Array | Uint8ClampedArray): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) for (let k = 0; k < 3; k++) data[p * 3 + k] = rgba[p * 4 + k]!;
  return { width, height, data };
}
