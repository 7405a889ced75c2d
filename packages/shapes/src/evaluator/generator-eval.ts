import { shapeSample, SPLIT_SEEDS } from '../dataset.js';
import type { RgbImage } from '../render.js';
import type { ShapeAttributes } from '../vocabulary.js';
import { scoreImages, type GeneratorScore, type ShapesEvaluator } from './evaluator.js';

/** Makes one image per prompt, from `seed` (the caller decides how a seed maps to noise). */
export type ImageGenerator = (prompts: readonly string[], seed: number) => Promise<RgbImage[]>;

export interface EvaluatePromptsOptions {
  /** How many prompts (and generated images), default 200; FID_shapes is defined on 2,000. */
  prompts?: number;
  /** Prompts per generate call (default 50). */
  batch?: number;
  /** Seed of the first call; call k uses seed + k (default 0). */
  seed?: number;
  /** Real test images for FID_shapes (default: as many as prompts; 0 to skip FID). */
  real?: number;
  /** After each call: images done so far. */
  onProgress?(done: number, total: number): void;
}

export interface PromptEvaluation extends GeneratorScore {
  /** Each prompt, what it asked, what the evaluator saw (for reports). */
  samples: { prompt: string; wanted: ShapeAttributes; seed: number }[];
  seconds: number;
}

/**
 * The evaluation prompts: held-out captions of the grammar (the test split, past the indices real images use), with
 * the attributes each asks for.
 */
export function evaluationPrompts(count: number): { prompt: string; wanted: ShapeAttributes }[] {
  return Array.from({ length: count }, (_, i) => {
    const s = shapeSample(SPLIT_SEEDS.test, 1_000_000 + i);
    return { prompt: s.caption, wanted: s.attributes };
  });
}

/**
 * Score a generator on the shapes task: accuracy (all three attributes as the prompt asked) and FID_shapes against
 * real test images in the evaluator's feature space.
 *
 * @example
 * const r = await evaluatePrompts((p, seed) => generate(p, seed), evaluator, { prompts: 2000 });
 */
export async function evaluatePrompts(generate: ImageGenerator, evaluator: ShapesEvaluator, o: EvaluatePromptsOptions = {}): Promise<PromptEvaluation> {
  const total = o.prompts ?? 200;
  if (!Number.isInteger(total) || total < 1) throw new RangeError(`evaluatePrompts: prompts must be a positive integer, got ${total}`);
  const batch = o.batch ?? 50;
  const seed0 = o.seed ?? 0;
  const t0 = performance.now();
  const list = evaluationPrompts(total);
  const images: RgbImage[] = [];
  const samples: PromptEvaluation['samples'] = [];
  for (let start = 0, k = 0; start < total; start += batch, k++) {
    const chunk = list.slice(start, start + batch);
    const out = await generate(chunk.map((c) => c.prompt), seed0 + k);
    if (out.length !== chunk.length) throw new Error(`evaluatePrompts: the generator returned ${out.length} images for ${chunk.length} prompts`);
    images.push(...out);
    chunk.forEach((c) => samples.push({ ...c, seed: seed0 + k }));
    o.onProgress?.(images.length, total);
  }
  const realCount = o.real ?? total;
  const real = realCount > 1 ? Array.from({ length: realCount }, (_, i) => shapeSample(SPLIT_SEEDS.test, i).image) : undefined;
  const score = await scoreImages(evaluator, images, list.map((l) => l.wanted), real);
  return { ...score, samples, seconds: (performance.now() - t0) / 1000 };
}

/** The evaluator's own all-attributes accuracy on `count` held-out real test images. */
export async function realAccuracy(evaluator: ShapesEvaluator, count = 2000): Promise<GeneratorScore> {
  const samples = Array.from({ length: count }, (_, i) => shapeSample(SPLIT_SEEDS.test, i));
  return scoreImages(evaluator, samples.map((s) => s.image), samples.map((s) => s.attributes));
}
