// Stage `diff-instruct` — SDXS §3.3's segmented Diff-Instruct, after the feature-matching warm-up. An online
// diffusion model, initialised from the teacher, keeps learning the one-step student's samples (its denoising loss);
// the student is moved along the difference of the two models' scores on its own noised samples — toward where the
// teacher puts probability and away from where the online model (the student's own distribution) does — for
// timesteps in the segment t ≤ α·T only, plus λ·feature matching against the ODE pairs; α and λ decay over the run.
// The score difference enters as DMD's normalised x0-space gradient (Yin et al. 2024, the same quantity up to the
// weighting w(t)), through the surrogate 0.5·‖x0 − sg(x0 − g)‖², whose gradient is g.
import { clipTextModel, CLIPTokenizer } from '@sdxs/clip';
import { Abs, Add, Concat, Div, Graph, Mul, Params, ReduceMean, Split, Sub, stopGradient, type Value } from '@sdxs/graph';
import { Generator, Tensor } from '@sdxs/tensor';
import { unet2DCondition, type UNet2DConditionConfig } from '@sdxs/unet';
import { loadCheckpoint, saveCheckpoint, type LoadedCheckpoint } from '../checkpoint.js';
import { mseLoss } from '../losses/mse.js';
import { adamw } from '../optim/adamw.js';
import { bindFrozen } from '../params/inherit.js';
import { makeInputs, makeTrainable } from '../params/trainable.js';
import { TRAINING_LOWERING } from '../recipes/decoder.js';
import { Trainer, type StepResult } from '../trainer.js';
import { MICRO_MAX_LENGTH } from './configs.js';
import { definedOnly, loopSettings, runLoop, type LoopResult, type StageIO, type StageRunOptions } from './loop.js';
import type { Component, MicroModel } from './model-folder.js';
import { odePairBatch, type OdePairs } from './ode-pairs.js';
import { featureFeeds, oneStepLoss, oneStepTimesteps, oneStepX0, timestepFeeds } from './one-step-graph.js';
import { uniforms } from './random.js';
import { cosineWithWarmup } from './schedule.js';
import { microTokenizerFiles } from './tokenizer.js';
import { join } from 'node:path';

export interface DiffInstructStageOptions extends StageRunOptions {
  teacher: MicroModel;
  /** The warmed-up one-step student (the one-step stage's U-Net). */
  student: Component<UNet2DConditionConfig>;
  /** The ODE pairs, for the λ·feature-matching term. */
  pairs: OdePairs;
  /** The teacher's guidance in the real score (default 5, as the pairs were made). */
  guidance?: number;
  /** The segment's upper end as a share of T, from the first step to the last (default [0.7, 0.3]). */
  alpha?: readonly [number, number];
  /** λ of feature matching, from the first step to the last (default [1, 0.1]). */
  lambda?: readonly [number, number];
  /** The online model's learning rate (default 1e-4). */
  onlineLr?: number;
  ema?: number;
}

export const DIFF_INSTRUCT_STAGE_DEFAULTS = { steps: 600, batch: 16, lr: 2e-5, onlineLr: 1e-4, guidance: 5, alpha: [0.7, 0.3], lambda: [1, 0.1], ema: 0.99, seed: 0, mseWeight: 0.25, featureTimesteps: [20, 400] } as const;

/** The smallest timestep of the segment (below it both scores agree to rounding). */
const T_MIN = 20;

/**
 * The student's step: one-step x0 from the pair's noise; its noised copy scored by the frozen teacher (`real.*`,
 * with classifier-free guidance) and by the online model (`online.*`, weights fed each step); the normalised score
 * difference as the gradient of x0; plus λ·(feature matching + MSE) against the pair's latent. Outputs `x0` (for
 * the online model's step), `di_loss`, `latent_mse`.
 */
export function diffInstructStudentGraph(m: { text: MicroModel['textEncoder']['config']; teacher: UNet2DConditionConfig; student: UNet2DConditionConfig }, batch: number, latentSize: number, mseWeight: number): { graph: Graph; loss: Value } {
  const graph = new Graph({ name: 'micro_diff_instruct', target: 'cpu', lowering: TRAINING_LOWERING });
  const shape = [batch, m.student.in_channels, latentSize, latentSize];
  const ids = graph.input('input_ids', 'int64', [batch, MICRO_MAX_LENGTH]);
  const uncond = graph.input('uncond_ids', 'int64', [batch, MICRO_MAX_LENGTH]);
  const [context, empty] = Split(stopGradient(clipTextModel(graph, Concat([ids, uncond], 0), m.text).lastHiddenState), 2, 0) as [Value, Value];
  const noise = graph.input('noise', 'float32', shape);
  const { sample: eps } = unet2DCondition(new Params(graph), m.student, { sample: noise, timestep: graph.input('timestep', 'float32', [batch]), encoderHiddenStates: context });
  const x0 = oneStepX0(noise, eps);
  const fixed = stopGradient(x0);
  graph.output(fixed, 'x0');

  const a = graph.input('di_alpha', 'float32', [batch, 1, 1, 1]);
  const s = graph.input('di_sigma', 'float32', [batch, 1, 1, 1]);
  const t = graph.input('di_timestep', 'float32', [batch]);
  const xt = Add(Mul(a, fixed), Mul(s, graph.input('di_noise', 'float32', shape)));
  const { sample: both } = unet2DCondition(new Params(graph, 'real'), m.teacher, { sample: Concat([xt, xt], 0), timestep: Concat([t, t], 0), encoderHiddenStates: Concat([context, empty], 0) });
  const [cond, uncondEps] = Split(both, 2, 0) as [Value, Value];
  const real = Add(uncondEps, Mul(graph.input('guidance_scale', 'float32', []), Sub(cond, uncondEps)));
  const { sample: fake } = unet2DCondition(new Params(graph, 'online'), m.teacher, { sample: xt, timestep: t, encoderHiddenStates: context });
  const x0Of = (e: Value) => Div(Sub(xt, Mul(s, e)), a);
  const realX0 = x0Of(real);
  // DMD's normaliser: the mean distance to the teacher's denoised sample, per image.
  const norm = Add(ReduceMean(Abs(Sub(fixed, realX0)), [1, 2, 3], true), 1e-5);
  const grad = stopGradient(Div(Sub(x0Of(fake), realX0), norm));
  const d = Sub(x0, stopGradient(Sub(fixed, grad)));
  const di = Mul(ReduceMean(Mul(d, d), undefined, false), 0.5);
  graph.output(di, 'di_loss');
  const fm = oneStepLoss(graph, x0, { loss: 'feature-matching', mseWeight, teacher: m.teacher, context });
  return { graph, loss: Add(di, Mul(graph.input('lambda_fm', 'float32', []), fm)) };
}

/** The online model's step: ε-prediction on the student's samples (fed as `x0`), uniform timesteps. */
export function diffInstructOnlineGraph(text: MicroModel['textEncoder']['config'], teacher: UNet2DConditionConfig, batch: number, latentSize: number): { graph: Graph; loss: Value } {
  const graph = new Graph({ name: 'micro_diff_instruct_online', target: 'cpu', lowering: TRAINING_LOWERING });
  const shape = [batch, teacher.in_channels, latentSize, latentSize];
  const context = stopGradient(clipTextModel(graph, graph.input('input_ids', 'int64', [batch, MICRO_MAX_LENGTH]), text).lastHiddenState);
  const noise = graph.input('noise', 'float32', shape);
  const xt = Add(Mul(graph.input('alpha', 'float32', [batch, 1, 1, 1]), graph.input('x0', 'float32', shape)), Mul(graph.input('sigma', 'float32', [batch, 1, 1, 1]), noise));
  const { sample } = unet2DCondition(new Params(graph, 'online'), teacher, { sample: xt, timestep: graph.input('timestep', 'float32', [batch]), encoderHiddenStates: context });
  return { graph, loss: mseLoss(sample, noise) };
}

const lerp = (r: readonly [number, number], f: number) => r[0] + (r[1] - r[0]) * f;

export async function runDiffInstructStage(o: DiffInstructStageOptions & { onCheckpoint?(step: number, weights: ReadonlyMap<string, Tensor<'float32'>>, student: UNet2DConditionConfig): Promise<void> }, io: StageIO): Promise<LoopResult & { weights: ReadonlyMap<string, Tensor<'float32'>>; student: UNet2DConditionConfig }> {
  const d = { ...DIFF_INSTRUCT_STAGE_DEFAULTS, ...definedOnly(o) };
  const { teacher, student, pairs } = o;
  const latentSize = Number(pairs.latents.shape[2]);
  const isText = (n: string) => n.startsWith('text_model.');
  const s = diffInstructStudentGraph({ text: teacher.textEncoder.config, teacher: teacher.unet.config, student: student.config }, d.batch, latentSize, d.mseWeight);
  bindFrozen(s.graph, teacher.textEncoder.weights, '', `${teacher.dir} text_encoder`, isText);
  bindFrozen(s.graph, teacher.unet.weights, 'teacher.', `${teacher.dir} unet`);
  bindFrozen(s.graph, teacher.unet.weights, 'real.', `${teacher.dir} unet`);
  bindFrozen(s.graph, teacher.unet.weights, 'online.', `${teacher.dir} unet`);
  bindFrozen(s.graph, student.weights, '', 'one-step student unet', (n) => !isText(n) && !/^(teacher|real|online)\./.test(n));
  makeInputs(s.graph, /^online\./);
  const on = diffInstructOnlineGraph(teacher.textEncoder.config, teacher.unet.config, d.batch, latentSize);
  bindFrozen(on.graph, teacher.textEncoder.weights, '', `${teacher.dir} text_encoder`, isText);
  bindFrozen(on.graph, teacher.unet.weights, 'online.', `${teacher.dir} unet`);

  const generator = new Generator(d.seed);
  const studentTrainer = await Trainer.create({ runtime: o.runtime, graph: s.graph, loss: s.loss, trainable: makeTrainable(s.graph, (n) => !isText(n) && !/^(teacher|real|online)\./.test(n)), optimizer: adamw({ lr: cosineWithWarmup(d.lr, d.steps, 20), weightDecay: 0 }), clipGradNorm: 1, ema: { decay: d.ema }, metrics: ['x0', 'di_loss', 'latent_mse'] });
  const online = await Trainer.create({ runtime: o.runtime, graph: on.graph, loss: on.loss, trainable: makeTrainable(on.graph, /^online\./), optimizer: adamw({ lr: d.onlineLr, weightDecay: 0 }), clipGradNorm: 1 });
  const exported = () => studentTrainer.emaParams() ?? studentTrainer.params();
  const tokenizer = CLIPTokenizer.fromFiles(microTokenizerFiles());
  const uncondIds = tokenizer.call(Array.from({ length: d.batch }, () => ''), { maxLength: MICRO_MAX_LENGTH }).inputIds;
  const shape = [d.batch, student.config.in_channels, latentSize, latentSize];
  let ids: Tensor | undefined;
  const batchOf = (step: number): Record<string, Tensor> => {
    const f = step / Math.max(1, d.steps - 1);
    // The pairs in another order than the one-step stage's (offset 17).
    const picked = odePairBatch(pairs, step, d.batch, d.seed + 17);
    ids = tokenizer.call(picked.captions, { maxLength: MICRO_MAX_LENGTH }).inputIds;
    return {
      input_ids: ids,
      uncond_ids: uncondIds,
      noise: picked.noise,
      timestep: oneStepTimesteps(d.batch),
      latents: picked.latents,
      ...timestepFeeds(uniforms(generator, d.batch), T_MIN, Math.max(T_MIN, Math.round(lerp(d.alpha, f) * 999)), 'di_'),
      di_noise: generator.randn(shape),
      guidance_scale: new Tensor('float32', [], Float32Array.of(d.guidance)),
      lambda_fm: new Tensor('float32', [], Float32Array.of(lerp(d.lambda, f))),
      ...featureFeeds(generator, shape, d.featureTimesteps),
      ...Object.fromEntries(online.params()),
    };
  };
  const afterStep = async (r: StepResult): Promise<Record<string, number>> => {
    const x0 = r.metrics['x0']!;
    const step = await online.step({ input_ids: ids!, x0, noise: generator.randn(shape), ...timestepFeeds(uniforms(generator, d.batch), 0, 999, '') });
    return { online_loss: step.loss, di_loss: Number(r.metrics['di_loss']!.data[0]) };
  };
  const strip = (m: ReadonlyMap<string, Tensor<'float32'>>) => new Map([...m].map(([k, v]) => [k.slice('online.'.length), v] as const));
  try {
    const result = await runLoop(
      {
        ...loopSettings('diff-instruct', o, d.steps, 200),
        trainer: studentTrainer,
        generator,
        batch: batchOf,
        afterStep,
        save: async (dir) => {
          await saveCheckpoint(dir, { component: 'unet', config: student.config, weights: studentTrainer.params(), trainer: studentTrainer.state(), rng: generator.getState(), meta: { stage: 'diff-instruct', teacher: teacher.dir } });
          await saveCheckpoint(join(dir, 'online'), { component: 'unet', config: teacher.unet.config, weights: strip(online.params()), trainer: online.state(), meta: { stage: 'diff-instruct online' } });
          await o.onCheckpoint?.(studentTrainer.stepCount, exported(), student.config);
        },
        checkResume: async (c: LoadedCheckpoint) => {
          if (JSON.stringify(c.config) !== JSON.stringify(student.config)) throw new Error(`${c.dir}: trained with another student U-Net config`);
          online.load((await loadCheckpoint(join(c.dir, 'online'))).trainer);
        },
        meta: { batch: d.batch, lr: d.lr, online_lr: d.onlineLr, guidance: d.guidance, alpha: d.alpha, lambda: d.lambda, ema: d.ema, seed: d.seed, teacher: teacher.dir },
      },
      io,
    );
    return { ...result, weights: exported(), student: student.config };
  } finally {
    await studentTrainer.dispose();
    await online.dispose();
  }
}
