// The evaluator's network: a small CNN that reads a 64×64 shapes image and predicts its shape, object colour and
// background colour. Its penultimate layer (`fc`, after ReLU) is the feature space of FID_shapes.
import { conv2d, linear, Params, ReduceMean, Relu, Reshape, type Graph, type Value } from '@sdxs/graph';
import { COLORS, SHAPES } from '../vocabulary.js';

/** The evaluator's config.json. */
export interface ShapesClassifierConfig {
  readonly _class_name: 'ShapesClassifier';
  readonly image_size: number;
  /** Output channels of the four stride-2 3×3 convolutions. */
  readonly channels: readonly number[];
  /** Width of the penultimate (feature) layer. */
  readonly features: number;
  /** Class names of each head, in logit order. */
  readonly shapes: readonly string[];
  readonly colors: readonly string[];
}

export const SHAPES_CLASSIFIER_CONFIG: ShapesClassifierConfig = {
  _class_name: 'ShapesClassifier',
  image_size: 64,
  channels: [32, 64, 64, 128],
  features: 128,
  shapes: [...SHAPES],
  colors: [...COLORS],
};

/** Validate a parsed config.json; errors name `file` and the field. */
export function parseClassifierConfig(json: unknown, file: string): ShapesClassifierConfig {
  if (typeof json !== 'object' || json === null) throw new Error(`${file}: not a JSON object`);
  const c = json as Record<string, unknown>;
  if (c['_class_name'] !== 'ShapesClassifier') throw new Error(`${file}: field "_class_name" must be "ShapesClassifier", got ${JSON.stringify(c['_class_name'])}`);
  const ints = (k: string) => {
    const v = c[k];
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => Number.isInteger(x) && x > 0)) throw new Error(`${file}: field "${k}" must be a list of positive integers`);
    return v as number[];
  };
  const int = (k: string) => {
    const v = c[k];
    if (!Number.isInteger(v) || (v as number) <= 0) throw new Error(`${file}: field "${k}" must be a positive integer`);
    return v as number;
  };
  const names = (k: string, known: readonly string[]) => {
    const v = c[k];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && known.includes(x))) throw new Error(`${file}: field "${k}" must list names from ${known.join(', ')}`);
    return v as string[];
  };
  return { _class_name: 'ShapesClassifier', image_size: int('image_size'), channels: ints('channels'), features: int('features'), shapes: names('shapes', SHAPES), colors: names('colors', COLORS) };
}

export interface ClassifierOutputs {
  /** Penultimate features [B, features] (FID_shapes' space). */
  features: Value;
  shape: Value;
  color: Value;
  background: Value;
}

/**
 * The classifier on `image` [B, 3, S, S] in [−1, 1]: four stride-2 conv+ReLU layers, global average pooling, a
 * ReLU feature layer, three linear heads (logits). Parameters: `convs.{i}.*`, `fc.*`, `heads.{shape,color,background}.*`.
 */
export function shapesClassifier(g: Graph, image: Value, c: ShapesClassifierConfig): ClassifierOutputs {
  const p = new Params(g);
  let h = image;
  let inCh = 3;
  c.channels.forEach((ch, i) => {
    h = Relu(conv2d(p.child('convs').child(i), h, inCh, ch, 3, { stride: 2, padding: 1 }));
    inCh = ch;
  });
  const pooled = Reshape(ReduceMean(h, [2, 3], true), [0, -1]);
  const features = Relu(linear(p.child('fc'), pooled, inCh, c.features));
  const heads = p.child('heads');
  return {
    features,
    shape: linear(heads.child('shape'), features, c.features, c.shapes.length),
    color: linear(heads.child('color'), features, c.features, c.colors.length),
    background: linear(heads.child('background'), features, c.features, c.colors.length),
  };
}
