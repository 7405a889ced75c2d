// Stage `one-step` — SDXS §3.3's feature-matching warm-up: a one-step student maps the noise of a teacher ODE pair
// (t = 999, ε-prediction, x0 recovered as the scheduler's one step does) straight to the pair's image latent. The
// loss compares the two latents through the frozen teacher U-Net's encoder (multi-layer SSIM of its skip features,
// eq. 10), which the paper found keeps the one-step images sharp where a latent MSE (the ablation) blurs them.
// The student is the teacher with blocks removed as SDXS-512 removed them from SD 1.5, initialised from the
// teacher's remaining weights; the text encoder and VAE are the teacher's, frozen.
import { clipTextModel, CLIPTokenizer, type CLIPTextConfig } from '@sdxs/clip';
import { Graph, Params, stopGradient, type Value } from '@sdxs/graph';
import { Generator, Tensor } from '@sdxs/tensor';
import { parseUNetConfig, unet2DCondition, unetDownPath, type UNet2DConditionConfig } from '@sdxs/unet';
import { saveCheckpoint, type LoadedCheckpoint } from '../checkpoint.js';
import { adamw } from '../optim/adamw.js';
import { bindRandom } from '../params/init.js';
import { bindFrozen, bindInherited } from '../params/inherit.js';
import { makeTrainable } from '../params/trainable.js';
import { TRAINING_LOWERING } from '../recipes/decoder.js';
import { Trainer } from '../trainer.js';
import { MICRO_MAX_LENGTH } from './configs.js';
import { definedOnly, loopSettings, runLoop, type LoopResult, type StageIO, type StageRunOptions } from './loop.js';
import type { MicroModel } from './model-folder.js';
import { odePairBatch, type OdePairs } from './ode-pairs.js';
import { featureFeeds, oneStepLoss, oneStepTimesteps, oneStepX0, type OneStepLoss } from './one-step-graph.js';
import { cosineWithWarmup } from './schedule.js';
import { microTokenizerFiles } from './tokenizer.js';

/**
 * SDXS-512's block removal applied to a teacher config: no mid block and one layer per block (SD 1.5 has two),
 * cross-attention kept in the blocks that have it.
 */
export function blockRemovedConfig(teacher: UNet2DConditionConfig): UNet2DConditionConfig {
  return parseUNetConfig({ ...teacher, mid_block_type: null, layers_per_block: 1 }, 'block-removed student');
}

export interface OneStepStageOptions extends StageRunOptions {
  teacher: MicroModel;
  pairs: OdePairs;
  /** The student's U-Net (default: `blockRemovedConfig(teacher)`). */
  student?: UNet2DConditionConfig;
  /** 'feature-matching' (default, the paper's) or 'mse' on latents (its blurry baseline). */
  loss?: OneStepLoss;
  /** Weight of a latent MSE added to feature matching (default 0.25: it anchors colours SSIM leaves free). */
  mseWeight?: number;
  /** The features are taken at a timestep drawn per sample from this range, both latents noised alike. */
  featureTimesteps?: readonly [number, number];
  ema?: number;
}

export type { OneStepLoss };

export const ONE_STEP_STAGE_DEFAULTS = { steps: 2000, batch: 32, lr: 2e-4, seed: 0, loss: 'feature-matching', mseWeight: 0.25, featureTimesteps: [20, 400], ema: 0.998 } as const;

export interface OneStepGraph {
  graph: Graph;
  loss: Value;
  /** The student's one-step latent (x0), for metrics. */
  x0: Value;
}

/**
 * input_ids → frozen text encoder (`text_model.*`) → student U-Net (unprefixed keys) at t = 999 on `noise` → x0 =
 * (noise − √(1−ᾱ)·ε)/√ᾱ; the loss against `latents` (the teacher's ODE solution). Feature matching runs the frozen
 * teacher encoder (`teacher.*`) once on both latents, noised by `feature_noise` to `feature_timestep`.
 */
export function oneStepTrainingGraph(text: CLIPTextConfig, teacher: UNet2DConditionConfig, student: UNet2DConditionConfig, batch: number, latentSize: number, o: { loss: OneStepLoss; mseWeight: number }): OneStepGraph {
  const graph = new Graph({ name: 'micro_one_step', target: 'cpu', lowering: TRAINING_LOWERING });
  const ids = graph.input('input_ids', 'int64', [batch, MICRO_MAX_LENGTH]);
  const context = stopGradient(clipTextModel(graph, ids, text).lastHiddenState);
  const noise = graph.input('noise', 'float32', [batch, student.in_channels, latentSize, latentSize]);
  const timestep = graph.input('timestep', 'float32', [batch]);
  const { sample: eps } = unet2DCondition(new Params(graph), student, { sample: noise, timestep, encoderHiddenStates: context });
  const x0 = oneStepX0(noise, eps);
  return { graph, loss: oneStepLoss(graph, x0, { ...o, teacher, context }), x0 };
}

export interface OneStepResult extends LoopResult {
  student: UNet2DConditionConfig;
  weights: ReadonlyMap<string, Tensor<'float32'>>;
  inherited: number;
  fresh: number;
}

export async function runOneStepStage(o: OneStepStageOptions & { onCheckpoint?(step: number, weights: ReadonlyMap<string, Tensor<'float32'>>, student: UNet2DConditionConfig): Promise<void> }, io: StageIO): Promise<OneStepResult> {
  const d = { ...ONE_STEP_STAGE_DEFAULTS, ...definedOnly(o) };
  const teacher = o.teacher;
  const student = o.student ?? blockRemovedConfig(teacher.unet.config);
  const latentSize = Number(o.pairs.latents.shape[2]);
  const { graph, loss } = oneStepTrainingGraph(teacher.textEncoder.config, teacher.unet.config, student, d.batch, latentSize, { loss: d.loss, mseWeight: d.mseWeight });
  const generator = new Generator(d.seed);
  const isText = (n: string) => n.startsWith('text_model.');
  const isStudent = (n: string) => !isText(n) && !n.startsWith('teacher.');
  bindFrozen(graph, teacher.textEncoder.weights, '', `${teacher.dir} text_encoder`, isText);
  if (d.loss !== 'mse') bindFrozen(graph, teacher.unet.weights, 'teacher.', `${teacher.dir} unet`);
  const { inherited, fresh } = bindInherited(graph, teacher.unet.weights, { select: isStudent });
  bindRandom(graph, generator, { filter: (n) => fresh.includes(n) });
  io.log(`one-step: student ${inherited.length} tensors from the teacher, ${fresh.length} fresh (${student.mid_block_type ?? 'no'} mid block, ${student.layers_per_block} layer(s) per block)`);

  const trainer = await Trainer.create({ runtime: o.runtime, graph, loss, trainable: makeTrainable(graph, isStudent), optimizer: adamw({ lr: cosineWithWarmup(d.lr, d.steps, 100), weightDecay: 0 }), clipGradNorm: 1, ema: { decay: d.ema }, metrics: ['latent_mse'] });
  const exported = () => trainer.emaParams() ?? trainer.params();
  const tokenizer = CLIPTokenizer.fromFiles(microTokenizerFiles());
  const shape = [d.batch, student.in_channels, latentSize, latentSize];
  const batchOf = (step: number): Record<string, Tensor> => {
    const pairs = odePairBatch(o.pairs, step, d.batch, d.seed);
    const feeds: Record<string, Tensor> = {
      input_ids: tokenizer.call(pairs.captions, { maxLength: MICRO_MAX_LENGTH }).inputIds,
      noise: pairs.noise,
      latents: pairs.latents,
      timestep: oneStepTimesteps(d.batch),
    };
    return d.loss === 'mse' ? feeds : { ...feeds, ...featureFeeds(generator, shape, d.featureTimesteps) };
  };
  try {
    const result = await runLoop(
      {
        ...loopSettings('one-step', o, d.steps, 500),
        trainer,
        generator,
        batch: batchOf,
        save: async (dir) => {
          await saveCheckpoint(dir, { component: 'unet', config: student, weights: trainer.params(), trainer: trainer.state(), rng: generator.getState(), meta: { stage: 'one-step', teacher: teacher.dir, loss: d.loss } });
          await o.onCheckpoint?.(trainer.stepCount, exported(), student);
        },
        checkResume: (c: LoadedCheckpoint) => {
          if (JSON.stringify(c.config) !== JSON.stringify(student)) throw new Error(`${c.dir}: trained with another student U-Net config`);
        },
        meta: { batch: d.batch, lr: d.lr, loss: d.loss, mse_weight: d.mseWeight, feature_timesteps: d.featureTimesteps, ema: d.ema, seed: d.seed, pairs: o.pairs.captions.length, teacher: teacher.dir, student },
      },
      io,
    );
    return { ...result, student, weights: exported(), inherited: inherited.length, fresh: fresh.length };
  } finally {
    await trainer.dispose();
  }
}
