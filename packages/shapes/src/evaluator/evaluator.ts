import { bindCheckpoint, Graph, toOnnx, type TensorStore } from '@sdxs/graph';
import { SafetensorsFile, Tensor, type ModelSource, type Runtime, type Session } from '@sdxs/tensor';
import { imagesToTensor } from '../dataset.js';
import type { RgbImage } from '../render.js';
import type { ColorName, ShapeAttributes, ShapeName } from '../vocabulary.js';
import { parseClassifierConfig, shapesClassifier, type ShapesClassifierConfig } from './classifier.js';
import { featureStatistics, frechetDistance } from './frechet.js';

/** What the evaluator sees in one image. */
export interface Classification {
  readonly attributes: ShapeAttributes;
  /** Softmax probability of each predicted attribute. */
  readonly confidence: { readonly shape: number; readonly color: number; readonly background: number };
}

export const EVALUATOR_FILES = { config: 'config.json', weights: 'model.safetensors' } as const;

/** Images per classifier run (the graph has a fixed batch; the last chunk is padded). */
const CHUNK = 50;

/**
 * The trained shapes classifier: attributes of generated images (accuracy) and penultimate features (FID_shapes).
 * Environment-neutral: it reads its folder through a ModelSource and runs on any Runtime.
 *
 * @example
 * const ev = await ShapesEvaluator.load(runtime, source, 'evaluator');
 * const [c] = await ev.classify([image]); // c.attributes: { shape: 'circle', color: 'red', background: 'blue' }
 */
export class ShapesEvaluator {
  readonly config: ShapesClassifierConfig;
  readonly #session: Session;

  private constructor(config: ShapesClassifierConfig, session: Session) {
    this.config = config;
    this.#session = session;
  }

  /** Open the evaluator folder `folder` of `source` (config.json + model.safetensors). */
  static async load(runtime: Runtime, source: ModelSource, folder = 'evaluator'): Promise<ShapesEvaluator> {
    const at = (f: string) => (folder ? `${folder}/${f}` : f);
    const configPath = at(EVALUATOR_FILES.config);
    let json: unknown;
    try {
      json = JSON.parse(await source.readText(configPath));
    } catch (e) {
      throw new Error(`${source.id}/${configPath}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const config = parseClassifierConfig(json, `${source.id}/${configPath}`);
    const file = await SafetensorsFile.open(await source.open(at(EVALUATOR_FILES.weights)));
    try {
      return await ShapesEvaluator.create(runtime, config, [file]);
    } finally {
      await file.close?.();
    }
  }

  /** An evaluator from a config and its weights (a safetensors file, or tensors in memory through a TensorStore). */
  static async create(runtime: Runtime, config: ShapesClassifierConfig, weights: readonly TensorStore[]): Promise<ShapesEvaluator> {
    const g = ShapesEvaluator.graph(config);
    await bindCheckpoint(g, weights);
    return new ShapesEvaluator(config, await runtime.createSession(toOnnx(g), { label: 'shapes evaluator' }));
  }

  /** The inference graph: `image` [CHUNK, 3, S, S] → `features`, `shape`, `color`, `background` (logits). */
  static graph(config: ShapesClassifierConfig, batch: number = CHUNK): Graph {
    const g = new Graph({ name: 'shapes_evaluator', target: 'cpu' });
    const image = g.input('image', 'float32', [batch, 3, config.image_size, config.image_size]);
    const o = shapesClassifier(g, image, config);
    g.output(o.features, 'features');
    g.output(o.shape, 'shape');
    g.output(o.color, 'color');
    g.output(o.background, 'background');
    return g;
  }

  /** Classify and embed images (any number; run in chunks). */
  async run(images: readonly RgbImage[]): Promise<{ classes: Classification[]; features: Float32Array }> {
    const s = this.config.image_size;
    for (const [i, im] of images.entries()) if (im.width !== s || im.height !== s) throw new RangeError(`evaluator: image ${i} is ${im.width}×${im.height}, the evaluator reads ${s}×${s}`);
    const dim = this.config.features;
    const features = new Float32Array(images.length * dim);
    const classes: Classification[] = [];
    for (let start = 0; start < images.length; start += CHUNK) {
      const chunk = images.slice(start, start + CHUNK);
      const padded = [...chunk, ...Array<RgbImage>(CHUNK - chunk.length).fill(chunk[0]!)];
      const out = await this.#session.run({ image: imagesToTensor(padded) }, ['features', 'shape', 'color', 'background']);
      const f = out['features'] as Tensor<'float32'>;
      features.set(f.data.subarray(0, chunk.length * dim), start * dim);
      for (let k = 0; k < chunk.length; k++) {
        const [shape, pShape] = argmaxSoftmax(out['shape'] as Tensor<'float32'>, k);
        const [color, pColor] = argmaxSoftmax(out['color'] as Tensor<'float32'>, k);
        const [background, pBackground] = argmaxSoftmax(out['background'] as Tensor<'float32'>, k);
        classes.push({
          attributes: { shape: this.config.shapes[shape] as ShapeName, color: this.config.colors[color] as ColorName, background: this.config.colors[background] as ColorName },
          confidence: { shape: pShape, color: pColor, background: pBackground },
        });
      }
    }
    return { classes, features };
  }

  async classify(images: readonly RgbImage[]): Promise<Classification[]> {
    return (await this.run(images)).classes;
  }

  async dispose(): Promise<void> {
    await this.#session.dispose();
  }
}

function argmaxSoftmax(logits: Tensor<'float32'>, row: number): [number, number] {
  const n = logits.shape[1] as number;
  const x = logits.data.subarray(row * n, row * n + n);
  let best = 0;
  for (let i = 1; i < n; i++) if (x[i]! > x[best]!) best = i;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(x[i]! - x[best]!);
  return [best, 1 / sum];
}

/** True when every attribute matches. */
export function attributesMatch(a: ShapeAttributes, b: ShapeAttributes): boolean {
  return a.shape === b.shape && a.color === b.color && a.background === b.background;
}

export interface GeneratorScore {
  /** Share of images whose predicted attributes all match the prompt's. */
  accuracy: number;
  /** Per attribute. */
  shapeAccuracy: number;
  colorAccuracy: number;
  backgroundAccuracy: number;
  /** Fréchet distance to the real images' features (when real images were given). */
  fid?: number;
  count: number;
}

/**
 * Score generated images against the attributes their prompts asked for, and (with `real`) FID_shapes against real
 * images of the data set.
 */
export async function scoreImages(ev: ShapesEvaluator, generated: readonly RgbImage[], wanted: readonly ShapeAttributes[], real?: readonly RgbImage[]): Promise<GeneratorScore> {
  if (generated.length !== wanted.length) throw new RangeError(`scoreImages: ${generated.length} images for ${wanted.length} prompts`);
  const g = await ev.run(generated);
  let all = 0;
  let shape = 0;
  let color = 0;
  let background = 0;
  g.classes.forEach((c, i) => {
    const w = wanted[i]!;
    if (attributesMatch(c.attributes, w)) all++;
    if (c.attributes.shape === w.shape) shape++;
    if (c.attributes.color === w.color) color++;
    if (c.attributes.background === w.background) background++;
  });
  const n = generated.length;
  const score: GeneratorScore = { accuracy: all / n, shapeAccuracy: shape / n, colorAccuracy: color / n, backgroundAccuracy: background / n, count: n };
  if (real) {
    const r = await ev.run(real);
    const dim = ev.config.features;
    score.fid = frechetDistance(featureStatistics(g.features, n, dim), featureStatistics(r.features, real.length, dim));
  }
  return score;
}
