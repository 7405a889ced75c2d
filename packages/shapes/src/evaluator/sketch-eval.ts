// Sketch agreement (the sketch-to-image metric of the SDXS recipe issue): a generated image agrees with its sketch
// when the evaluator sees the sketched shape and the image's silhouette covers the sketched one (IoU ≥ 0.6).
import { shapeSample, SPLIT_SEEDS } from '../dataset.js';
import { shapeDistance } from '../geometry.js';
import type { RgbImage } from '../render.js';
import type { ShapeAttributes } from '../vocabulary.js';
import type { ShapesEvaluator } from './evaluator.js';

/** Makes one image per (sketch, prompt) from `seed`; sketches are white strokes on black, as the data set draws them. */
export type SketchGenerator = (sketches: readonly RgbImage[], prompts: readonly string[], seed: number) => Promise<RgbImage[]>;

export interface SketchCase {
  sketch: RgbImage;
  prompt: string;
  wanted: ShapeAttributes;
  /** The sketched shape's filled silhouette (1 inside), from its exact geometry. */
  silhouette: Uint8Array;
}

/**
 * A sketch as a user draws it — dark strokes on white, the data set's white-on-black inverted — which a pipeline's
 * `controlMode: 'sketch'` inverts back.
 */
export function asDrawn(sketch: RgbImage): RgbImage & { channels: 3 } {
  return { width: sketch.width, height: sketch.height, data: sketch.data.map((v) => 255 - v), channels: 3 };
}

/** Held-out sketch cases: the test split past the indices other evaluations use. */
export function evaluationSketches(count: number): SketchCase[] {
  return Array.from({ length: count }, (_, i) => {
    const s = shapeSample(SPLIT_SEEDS.test, 2_000_000 + i);
    const size = s.image.width;
    const silhouette = new Uint8Array(size * size);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) silhouette[y * size + x] = shapeDistance(s.attributes.shape, s.placement, x + 0.5, y + 0.5) <= 0 ? 1 : 0;
    return { sketch: s.sketch, prompt: s.caption, wanted: s.attributes, silhouette };
  });
}

/**
 * The object's silhouette in an image of one shape on a plain background: the background colour is the per-channel
 * median of the border pixels; a pixel belongs to the object when its distance from it (Euclidean, 0–255 units) is
 * over half the object's (the 98th-percentile distance) — half coverage, as the geometry's edge — and over `floor`
 * (default 30), so that a plain image's noise is no object.
 */
export function silhouetteOf(image: RgbImage, floor = 30): Uint8Array {
  const { width: w, height: h, data } = image;
  const border: number[][] = [[], [], []];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (x !== 0 && y !== 0 && x !== w - 1 && y !== h - 1) continue;
      for (let c = 0; c < 3; c++) border[c]!.push(data[(y * w + x) * 3 + c]!);
    }
  }
  const bg = border.map((v) => v.sort((a, b) => a - b)[v.length >> 1]!);
  const dist = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) dist[i] = Math.hypot(data[3 * i]! - bg[0]!, data[3 * i + 1]! - bg[1]!, data[3 * i + 2]! - bg[2]!);
  const object = Float32Array.from(dist).sort()[Math.floor(0.98 * (w * h - 1))]!;
  const cut = Math.max(floor, 0.5 * object);
  return Uint8Array.from(dist, (d) => (d > cut ? 1 : 0));
}

/** Intersection over union of two masks (1 when both are empty). */
export function maskIoU(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`maskIoU: masks of ${a.length} and ${b.length} pixels`);
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    inter += a[i]! & b[i]!;
    union += a[i]! | b[i]!;
  }
  return union === 0 ? 1 : inter / union;
}

export interface SketchEvaluation {
  count: number;
  /** Share of images with the sketched shape and silhouette IoU ≥ the threshold. */
  agreement: number;
  shapeAccuracy: number;
  /** Share whose silhouette IoU reaches the threshold. */
  iouAgreement: number;
  meanIoU: number;
  /** Share with the prompt's object and background colours. */
  colorAccuracy: number;
  seconds: number;
}

export interface EvaluateSketchesOptions {
  /** Sketches to score (default 200). */
  count?: number;
  batch?: number;
  seed?: number;
  iouThreshold?: number;
}

/**
 * Score a sketch-to-image generator on held-out sketches.
 *
 * @example
 * const r = await evaluateSketches((sketches, prompts, seed) => generate(...), evaluator, { count: 500 });
 */
export async function evaluateSketches(generate: SketchGenerator, evaluator: ShapesEvaluator, o: EvaluateSketchesOptions = {}): Promise<SketchEvaluation> {
  const total = o.count ?? 200;
  if (!Number.isInteger(total) || total < 1) throw new RangeError(`evaluateSketches: count must be a positive integer, got ${total}`);
  const batch = o.batch ?? 50;
  const threshold = o.iouThreshold ?? 0.6;
  const t0 = performance.now();
  const cases = evaluationSketches(total);
  let agree = 0;
  let shape = 0;
  let iouOk = 0;
  let iouSum = 0;
  let color = 0;
  for (let start = 0, k = 0; start < total; start += batch, k++) {
    const chunk = cases.slice(start, start + batch);
    const images = await generate(chunk.map((c) => c.sketch), chunk.map((c) => c.prompt), (o.seed ?? 0) + k);
    if (images.length !== chunk.length) throw new Error(`evaluateSketches: the generator returned ${images.length} images for ${chunk.length} sketches`);
    const seen = await evaluator.classify(images);
    chunk.forEach((c, i) => {
      const a = seen[i]!.attributes;
      const iou = maskIoU(silhouetteOf(images[i]!), c.silhouette);
      const shapeOk = a.shape === c.wanted.shape;
      shape += shapeOk ? 1 : 0;
      iouOk += iou >= threshold ? 1 : 0;
      agree += shapeOk && iou >= threshold ? 1 : 0;
      iouSum += iou;
      color += a.color === c.wanted.color && a.background === c.wanted.background ? 1 : 0;
    });
  }
  return { count: total, agreement: agree / total, shapeAccuracy: shape / total, iouAgreement: iouOk / total, meanIoU: iouSum / total, colorAccuracy: color / total, seconds: (performance.now() - t0) / 1000 };
}
