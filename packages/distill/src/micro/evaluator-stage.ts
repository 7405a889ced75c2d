// Stage `evaluator`: the shapes classifier (shape, object colour, background), trained from nothing on the data set;
// its held-out all-attributes accuracy is measured on the test split at the end.
import { join } from 'node:path';
import { Add, Graph, type Value } from '@sdxs/graph';
import { EVALUATOR_FILES, imagesToTensor, shapeSample, shapesClassifier, SHAPES_CLASSIFIER_CONFIG, SPLIT_SEEDS, type ShapesClassifierConfig } from '@sdxs/shapes';
import { Generator, Tensor } from '@sdxs/tensor';
import { saveCheckpoint } from '../checkpoint.js';
import { crossEntropyLoss } from '../losses/cross-entropy.js';
import { adamw } from '../optim/adamw.js';
import { bindRandom } from '../params/init.js';
import { makeTrainable } from '../params/trainable.js';
import { Trainer } from '../trainer.js';
import { writeComponentFolder } from './folders.js';
import { definedOnly, loopSettings, runLoop, type LoopResult, type StageIO, type StageRunOptions } from './loop.js';
import { cosineWithWarmup } from './schedule.js';

export interface EvaluatorStageOptions extends StageRunOptions {

}

// Measured: 600 steps at lr 3e-3 learnt the colours but left the shape near chance; 1500 at 1e-3 reached 97.1 %.
export const EVALUATOR_STAGE_DEFAULTS = { steps: 2500, batch: 64, lr: 1.5e-3, seed: 0 } as const;

function oneHot(batch: number, classes: number, index: (b: number) => number): Tensor<'float32'> {
  const t = Tensor.zeros('float32', [batch, classes]);
  for (let b = 0; b < batch; b++) t.data[b * classes + index(b)] = 1;
  return t;
}

/** The batch of training images and their one-hot labels for sample indices start … start + batch − 1 of `seed`. */
export function labelledBatch(config: ShapesClassifierConfig, seed: number, start: number, batch: number): Record<string, Tensor> {
  const samples = Array.from({ length: batch }, (_, j) => shapeSample(seed, start + j));
  return {
    image: imagesToTensor(samples.map((s) => s.image)),
    shape_label: oneHot(batch, config.shapes.length, (b) => config.shapes.indexOf(samples[b]!.attributes.shape)),
    color_label: oneHot(batch, config.colors.length, (b) => config.colors.indexOf(samples[b]!.attributes.color)),
    background_label: oneHot(batch, config.colors.length, (b) => config.colors.indexOf(samples[b]!.attributes.background)),
  };
}

/** The evaluator's training graph: the sum of the three heads' cross-entropies. */
export function evaluatorTrainingGraph(config: ShapesClassifierConfig, batch: number): { graph: Graph; loss: Value } {
  const graph = new Graph({ name: 'shapes_evaluator_train', target: 'cpu' });
  const s = config.image_size;
  const image = graph.input('image', 'float32', [batch, 3, s, s]);
  const o = shapesClassifier(graph, image, config);
  const label = (name: string, n: number) => graph.input(name, 'float32', [batch, n]);
  const loss = Add(
    Add(crossEntropyLoss(o.shape, label('shape_label', config.shapes.length)), crossEntropyLoss(o.color, label('color_label', config.colors.length))),
    crossEntropyLoss(o.background, label('background_label', config.colors.length)),
  );
  return { graph, loss };
}

export async function runEvaluatorStage(o: EvaluatorStageOptions, io: StageIO): Promise<LoopResult & { folder: string; config: ShapesClassifierConfig; weights: Map<string, Tensor<'float32'>> }> {
  const d = { ...EVALUATOR_STAGE_DEFAULTS, ...definedOnly(o) };
  const config = SHAPES_CLASSIFIER_CONFIG;
  const { graph, loss } = evaluatorTrainingGraph(config, d.batch);
  const generator = new Generator(d.seed);
  bindRandom(graph, generator, { gain: Math.SQRT2 });
  const trainer = await Trainer.create({ runtime: o.runtime, graph, loss, trainable: makeTrainable(graph, () => true), optimizer: adamw({ lr: cosineWithWarmup(d.lr, d.steps, 50), weightDecay: 1e-4 }), clipGradNorm: 5 });
  try {
    const result = await runLoop(
      {
        ...loopSettings('evaluator', o, d.steps, 200),
        trainer,
        generator,
        batch: (step) => labelledBatch(config, SPLIT_SEEDS.train, step * d.batch, d.batch),
        save: (dir) => saveCheckpoint(dir, { component: 'evaluator', config, weights: trainer.params(), trainer: trainer.state(), rng: generator.getState(), meta: { stage: 'evaluator' } }),
        meta: { batch: d.batch, lr: d.lr, seed: d.seed, config },
      },
      io,
    );
    const folder = join(o.out, 'evaluator');
    const weights = new Map(trainer.params());
    await writeComponentFolder(folder, config, weights, EVALUATOR_FILES.weights);
    return { ...result, folder, config, weights };
  } finally {
    await trainer.dispose();
  }
}
