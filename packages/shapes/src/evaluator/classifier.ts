// The evaluator's network: a small CNN that reads a 64×64 shapes image and predicts its shape, object colour and
// background colour. Its penultimate layer (`fc`, after ReLU) is the feature space of FID_shapes.
import { conv2d, linear, Params, ReduceMean, Relu, Reshape, type Graph, type Value } from '@sdxs/graph';
import { COLORS, SHAPES } from '../vocabulary.js';

/** The evaluator's config.json. */
export interface ShapesClassifierConfig {
  readonly _class_name: 'ShapesClassifier';
  readonly image_size: number;
  /** Output channels of the 3×3 convolutions (each followed by ReLU). */
  readonly channels: readonly number[];
  /** Their strides (1 or 2), one per convolution. */
  readonly strides: readonly number[];
  /** Width of the penultimate (feature) layer. */
  readonly features: number;
  /** Class names of each head, in logit order. */
  readonly shapes: readonly string[];
  readonly colors: readonly string[];
}

export const SHAPES_CLASSIFIER_CONFIG: ShapesClassifierConfig = {
  _class_name: 'ShapesClassifier',
  image_size: 64,
  // Stride-1 layers at 16×16 and 8×8 give the shape head corners and edges to work with: with four stride-2
  // layers alone the colours were learnt at once but the shape stayed near chance (63.6 % after 600 steps).
  channels: [32, 64, 64, 96, 96, 128],
  strides: [2, 2, 1, 2, 1, 2],
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
  const channels = ints('channels');
  const strides = ints('strides');
  if (strides.length !== channels.length || strides.some((x) => x > 2)) throw new Error(`${file}: field "strides" must hold one stride (1 or 2) per entry of "channels"`);
  return { _class_name: 'ShapesClassifier', image_size: int('image_size'), channels, strides, features: int('features'), shapes: names('shapes', SHAPES), colors: names('colors', COLORS) };
}

export interface ClassifierOutputs {
  /** Penultimate features [B, features] (FID_shapes' space). */
  features: Value;
  shape: Value;
  color: Value;
  background: Value;
}

/**
 * The classifier on `image` [B, 3, S, S] in [−1, 1]: 3×3 conv+ReLU layers (strides from the config), global average pooling, a
 * ReLU feature layer, three linear heads (logits). Parameters: `convs.{i}.*`, `fc.*`, `heads.{shape,color,background}.*`.
 */
export function shapesClassifier(g: Graph, image: Value, c: ShapesClassifierConfig): ClassifierOutputs {
  const p = new Params(g);
  let h = image;
  let inCh = 3;
  c.channels.forEach((ch, i) => {
    h = Relu(conv2d(p.child('convs').child(i), h, inCh, ch, 3, { stride: c.strides[i]!, padding: 1 }));
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
