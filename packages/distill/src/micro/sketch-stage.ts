// Stage `sketch` — the one-step sketch ControlNet (SDXS §3.4: the one-step recipe applied to a ControlNet). The
// one-step student is frozen; a ControlNet made from it (diffusers' `ControlNetModel.from_unet`: its encoder weights,
// zero convolutions) learns to steer its single step at t = 999 so that the image follows the sketch.
// The target is the data set's own image for the sketch: a sketch fixes the shape, place and size and the caption
// the colours, so the image is determined and, unlike text-to-image, needs no teacher ODE pair. The loss is the
// one-step stage's (teacher-encoder feature matching plus latent MSE). The conditioning scale is drawn per step
// around 1 so that the CLI's sketch default (0.8, the SDXS sketch model's) works as well as 1.
import { clipTextModel, CLIPTokenizer } from '@sdxs/clip';
import { controlNetConfigFromUNet, controlNetModel, parseControlNetConfig, prepareControlImage, type ControlNetConfig } from '@sdxs/control';
import { concatRows } from '@sdxs/pipeline';
import { Graph, Params, stopGradient, type Value } from '@sdxs/graph';
import { imagesToTensor, shapeSample, SHAPES, SPLIT_SEEDS, type RgbImage } from '@sdxs/shapes';
import { Generator, Tensor } from '@sdxs/tensor';
import { unet2DCondition, type UNet2DConditionConfig } from '@sdxs/unet';
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
import { featureFeeds, oneStepLoss, oneStepTimesteps, oneStepX0 } from './one-step-graph.js';
import { uniforms } from './random.js';
import { cosineWithWarmup } from './schedule.js';
import { microTokenizerFiles } from './tokenizer.js';
import { vaeSessions } from './vae-folder.js';

export interface SketchStageOptions extends StageRunOptions {
  /** The teacher: its text encoder conditions, its U-Net's encoder gives the matched features, its VAE the targets. */
  teacher: MicroModel;
  /** The one-step student U-Net the ControlNet steers (frozen). */
  student: { config: UNet2DConditionConfig; weights: ReadonlyMap<string, Tensor> };
  /** The ControlNet's conditioning embedding channels (default [16, 32, 48, 64]: 64×64 sketch → 8×8 latent). */
  embeddingChannels?: readonly number[];
  /** Weight of the latent MSE beside feature matching (default 0.25). */
  mseWeight?: number;
  /** Share of captions dropped to "" (default 0.1), so that a sketch alone gives an image. */
  captionDropout?: number;
  /**
   * Share of captions that name another shape than the sketch's (default 0.25): the drawing, not the words, decides
   * the shape, as a user who sketches a triangle under "a red circle" expects.
   */
  shapeSwap?: number;
  /** Range of the conditioning scale drawn per step (default [0.6, 1.2]). */
  scaleRange?: readonly [number, number];
  ema?: number;
}

/**
 * The shipped ControlNet: 1,500 steps, then resumed with `--steps 2700` (the cosine schedule laid out anew); sketch
 * agreement was 30 % at step 500 and 46 % at 1,500, the loss still falling.
 */
export const SKETCH_STAGE_DEFAULTS = { steps: 2700, batch: 32, lr: 5e-4, seed: 0, mseWeight: 0.25, captionDropout: 0.1, shapeSwap: 0.25, scaleRange: [0.6, 1.2], ema: 0.998, featureTimesteps: [20, 400] } as const;

/** The ControlNet's own parameters that start at zero (its output convolutions), as diffusers initialises them. */
export const ZERO_INIT = /^controlnet\.(controlnet_down_blocks\.|controlnet_mid_block\.|controlnet_cond_embedding\.conv_out\.)/;

export function sketchControlNetConfig(student: UNet2DConditionConfig, embeddingChannels: readonly number[] = [16, 32, 48, 64]): ControlNetConfig {
  return parseControlNetConfig(controlNetConfigFromUNet(student, { conditioningEmbeddingOutChannels: embeddingChannels }), 'micro controlnet');
}

/**
 * input_ids → frozen text encoder; sketch → ControlNet (`controlnet.*`, trained) → residuals into the frozen student
 * (`unet.*`) at t = 999 on `noise`; x0 as the one step recovers it; loss against `latents` through the frozen
 * teacher encoder (`teacher.*`).
 */
export function sketchTrainingGraph(m: { text: MicroModel['textEncoder']['config']; teacher: UNet2DConditionConfig; student: UNet2DConditionConfig; controlnet: ControlNetConfig }, batch: number, latentSize: number, mseWeight: number): { graph: Graph; loss: Value } {
  const graph = new Graph({ name: 'micro_sketch_controlnet', target: 'cpu', lowering: TRAINING_LOWERING });
  const c = m.student.in_channels;
  const shape = [batch, c, latentSize, latentSize];
  const ids = graph.input('input_ids', 'int64', [batch, MICRO_MAX_LENGTH]);
  const context = stopGradient(clipTextModel(graph, ids, m.text).lastHiddenState);
  const noise = graph.input('noise', 'float32', shape);
  const timestep = graph.input('timestep', 'float32', [batch]);
  const size = latentSize * 2 ** (m.controlnet.conditioning_embedding_out_channels.length - 1);
  const cond = graph.input('controlnet_cond', 'float32', [batch, m.controlnet.conditioning_channels, size, size]);
  const scale = graph.input('conditioning_scale', 'float32', []);
  const { downResiduals, midResidual } = controlNetModel(new Params(graph, 'controlnet'), m.controlnet, { sample: noise, timestep, encoderHiddenStates: context, controlnetCond: cond, conditioningScale: scale });
  const { sample: eps } = unet2DCondition(new Params(graph, 'unet'), m.student, { sample: noise, timestep, encoderHiddenStates: context, downBlockAdditionalResiduals: downResiduals, midBlockAdditionalResidual: midResidual });
  return { graph, loss: oneStepLoss(graph, oneStepX0(noise, eps), { loss: 'feature-matching', mseWeight, teacher: m.teacher, context }) };
}

/**
 * Sketches (white strokes on black, RGB) as the [B, 3, H, W] `controlnet_cond` in [0, 1], prepared by the
 * pipeline's own `prepareControlImage` (mode 'raw': these are already what sketch mode makes of a drawing), each
 * times its gain.
 */
export function sketchTensor(sketches: readonly RgbImage[], gains?: Float32Array): Tensor<'float32'> {
  const rows = sketches.map((s, b) => {
    const t = prepareControlImage({ ...s, channels: 3 }, { mode: 'raw' });
    return gains ? new Tensor('float32', t.shape, t.data.map((v) => v * gains[b]!)) : t;
  });
  return concatRows(...rows);
}

export interface SketchStageResult extends LoopResult {
  config: ControlNetConfig;
  weights: Map<string, Tensor<'float32'>>;
}

export async function runSketchStage(o: SketchStageOptions & { onCheckpoint?(step: number, weights: Map<string, Tensor<'float32'>>, config: ControlNetConfig): Promise<void> }, io: StageIO): Promise<SketchStageResult> {
  const d = { ...SKETCH_STAGE_DEFAULTS, ...definedOnly(o) };
  const { teacher, student } = o;
  const config = sketchControlNetConfig(student.config, o.embeddingChannels);
  const { encoder, decoder, latentSize } = await vaeSessions(o.runtime, teacher.vae.config, teacher.vae.weights, d.batch);
  await decoder.dispose();
  const { graph, loss } = sketchTrainingGraph({ text: teacher.textEncoder.config, teacher: teacher.unet.config, student: student.config, controlnet: config }, d.batch, latentSize, d.mseWeight);
  const generator = new Generator(d.seed);
  const isText = (n: string) => n.startsWith('text_model.');
  bindFrozen(graph, teacher.textEncoder.weights, '', `${teacher.dir} text_encoder`, isText);
  bindFrozen(graph, teacher.unet.weights, 'teacher.', `${teacher.dir} unet`);
  bindFrozen(graph, student.weights, 'unet.', 'one-step student unet');
  // ControlNetModel.from_unet: conv_in, the time embedding and the down blocks copied from the student.
  const { inherited, fresh } = bindInherited(graph, student.weights, { prefix: 'controlnet.' });
  for (const name of fresh.filter((n) => ZERO_INIT.test(n))) graph.bind(name, Tensor.zeros('float32', graph.initializers.get(name)!.shape));
  bindRandom(graph, generator, { filter: (n) => n.startsWith('controlnet.') });
  io.log(`sketch: ControlNet with ${inherited.length} tensors from the student, ${fresh.length} new (zero convolutions at zero)`);

  const trainer = await Trainer.create({ runtime: o.runtime, graph, loss, trainable: makeTrainable(graph, /^controlnet\./), optimizer: adamw({ lr: cosineWithWarmup(d.lr, d.steps, 100), weightDecay: 0 }), clipGradNorm: 1, ema: { decay: d.ema }, metrics: ['latent_mse'] });
  const strip = (m: ReadonlyMap<string, Tensor<'float32'>>) => new Map([...m].map(([k, v]) => [k.slice('controlnet.'.length), v] as const));
  const exported = () => strip(trainer.emaParams() ?? trainer.params());
  const tokenizer = CLIPTokenizer.fromFiles(microTokenizerFiles());
  const scaling = teacher.vae.config.scaling_factor;
  const shape = [d.batch, student.config.in_channels, latentSize, latentSize];
  const [sLo, sHi] = d.scaleRange;
  const batchOf = async (step: number): Promise<Record<string, Tensor>> => {
    const samples = Array.from({ length: d.batch }, (_, j) => shapeSample(SPLIT_SEEDS.train, 5_000_000 + step * d.batch + j));
    const posterior = await encoder.run({ image: imagesToTensor(samples.map((s) => s.image)) }, ['mean']);
    const mean = posterior['mean'] as Tensor<'float32'>;
    const u = uniforms(generator, 3 * d.batch + 1);
    // A resized or light-handed drawing reaches the ControlNet as grey strokes: train on strokes of 50–100 %.
    const gains = Float32Array.from({ length: d.batch }, (_, b) => 0.5 + 0.5 * u[3 * b + 1]!);
    const captions = samples.map((s, b) => {
      if (u[3 * b]! < d.captionDropout) return '';
      const swap = u[3 * b + 2]!;
      if (swap >= d.shapeSwap) return s.caption;
      // Another shape, same colours: the caption of the same index drawn with the shape forced.
      const others = SHAPES.filter((x) => x !== s.attributes.shape);
      const shape = others[Math.min(others.length - 1, Math.floor((swap / d.shapeSwap) * others.length))]!;
      return shapeSample(SPLIT_SEEDS.train, 5_000_000 + step * d.batch + b, { attributes: { ...s.attributes, shape } }).caption;
    });
    return {
      input_ids: tokenizer.call(captions, { maxLength: MICRO_MAX_LENGTH }).inputIds,
      noise: generator.randn(shape),
      timestep: oneStepTimesteps(d.batch),
      controlnet_cond: sketchTensor(samples.map((s) => s.sketch), gains),
      conditioning_scale: new Tensor('float32', [], Float32Array.of(sLo + u[3 * d.batch]! * (sHi - sLo))),
      latents: new Tensor('float32', shape, mean.data.map((v) => v * scaling)),
      ...featureFeeds(generator, shape, d.featureTimesteps),
    };
  };
  try {
    const result = await runLoop(
      {
        ...loopSettings('sketch', o, d.steps, 500),
        trainer,
        generator,
        batch: batchOf,
        save: async (dir) => {
          await saveCheckpoint(dir, { component: 'controlnet', config, weights: strip(trainer.params()), trainer: trainer.state(), rng: generator.getState(), meta: { stage: 'sketch', teacher: teacher.dir } });
          await o.onCheckpoint?.(trainer.stepCount, exported(), config);
        },
        checkResume: (c: LoadedCheckpoint) => {
          if (JSON.stringify(c.config) !== JSON.stringify(config)) throw new Error(`${c.dir}: trained with another ControlNet config`);
        },
        meta: { batch: d.batch, lr: d.lr, mse_weight: d.mseWeight, caption_dropout: d.captionDropout, shape_swap: d.shapeSwap, scale_range: d.scaleRange, ema: d.ema, seed: d.seed, teacher: teacher.dir, controlnet: config },
      },
      io,
    );
    return { ...result, config, weights: exported() };
  } finally {
    await trainer.dispose();
    await encoder.dispose();
  }
}
