// Stage `teacher`: the micro SD's CLIP text encoder and U-Net trained jointly from nothing with SD's objective —
// ε-prediction on scaled-linear betas, uniform timesteps, 10 % of captions dropped to "" for classifier-free guidance —
// on latents of the trained VAE (encoded on the fly, sampled from the posterior, times scaling_factor).
import { clipTextModel, CLIPTokenizer, parseCLIPTextConfig, type CLIPTextConfig } from '@sdxs/clip';
import { microTextEncoderConfig, microTokenizerFiles } from './tokenizer.js';
import type { AutoencoderKLConfig } from '@sdxs/decoder';
import { Graph, Mul, Params, ReduceMean, Sub, type Value } from '@sdxs/graph';
import { imagesToTensor, shapeSample, SPLIT_SEEDS } from '@sdxs/shapes';
import { Generator, Tensor } from '@sdxs/tensor';
import { parseUNetConfig, unet2DCondition, type UNet2DConditionConfig } from '@sdxs/unet';
import { saveCheckpoint, type LoadedCheckpoint } from '../checkpoint.js';
import { adamw } from '../optim/adamw.js';
import { bindRandom } from '../params/init.js';
import { makeTrainable } from '../params/trainable.js';
import { TRAINING_LOWERING } from '../recipes/decoder.js';
import { Trainer } from '../trainer.js';
import { alphasCumprod, MICRO_MAX_LENGTH, MICRO_UNET } from './configs.js';
import { definedOnly, loopSettings, runLoop, type LoopResult, type StageIO, type StageRunOptions } from './loop.js';
import { uniforms } from './random.js';
import { cosineWithWarmup } from './schedule.js';
import { vaeSessions } from './vae-folder.js';

export interface TeacherStageOptions extends StageRunOptions {
  /** The trained VAE (config with scaling_factor, weights). */
  vae: { config: AutoencoderKLConfig; weights: ReadonlyMap<string, Tensor> };
  /** Share of captions replaced by "" (default 0.1, as SD's CFG training). */
  captionDropout?: number;
  /**
   * Min-SNR-γ loss weighting (Hang et al. 2023; diffusers' `--snr_gamma`): each sample's ε-MSE weighted by
   * min(SNR_t, γ)/SNR_t, which stops the easy low-noise timesteps from dominating. Default 5; 0 turns it off.
   */
  snrGamma?: number;
  /** EMA decay of the exported weights (diffusers' EMAModel rule); default 0.999. */
  ema?: number;
  unet?: UNet2DConditionConfig;
  textEncoder?: CLIPTextConfig;
  /** Start the text encoder from these weights (the text-encoder stage's); default: from nothing. */
  textEncoderWeights?: ReadonlyMap<string, Tensor>;
  /** Called after each checkpoint with the current weights (e.g. to score the model). */
  onCheckpoint?(step: number, weights: TeacherWeights, configs: { textEncoder: CLIPTextConfig; unet: UNet2DConditionConfig }): Promise<void>;
}

/**
 * Measured on this machine (2 cores, ~1.8 steps/s at batch 32): a first run from a text encoder trained from
 * nothing was at 1 % accuracy after 1000 steps, its samples still blobs and the caption barely changing the noise
 * prediction; hence the text-encoder stage first, more steps, and an EMA of the weights (what is exported), as
 * diffusion models are usually sampled. The shape is learnt last: accuracy 67 % after 5,000 steps, 80 % after 9,000,
 * 99 % after 14,000 (25 steps, guidance 5; BENCHMARKS.md). The shipped teacher: 5,000 steps, then resumed with
 * `--steps 9000` and `--steps 14000`, each resumption laying the cosine schedule out anew; one run of these 14,000
 * defaults is the same length with one schedule, not the same bits.
 */
export const TEACHER_STAGE_DEFAULTS = { steps: 14000, batch: 32, lr: 1e-3, captionDropout: 0.1, snrGamma: 5, ema: 0.999, seed: 0 } as const;

export interface TeacherWeights {
  textEncoder: Map<string, Tensor<'float32'>>;
  unet: Map<string, Tensor<'float32'>>;
}

/**
 * The training graph: input_ids → text encoder → U-Net(noisy, t, context) → the squared error against the noise,
 * weighted per sample by `loss_weight` [B] and averaged.
 */
export function teacherTrainingGraph(text: CLIPTextConfig, unet: UNet2DConditionConfig, batch: number, latentSize: number, channels: number): { graph: Graph; loss: Value } {
  const graph = new Graph({ name: 'micro_teacher', target: 'cpu', lowering: TRAINING_LOWERING });
  const ids = graph.input('input_ids', 'int64', [batch, MICRO_MAX_LENGTH]);
  const { lastHiddenState } = clipTextModel(graph, ids, text);
  const sample = graph.input('sample', 'float32', [batch, channels, latentSize, latentSize]);
  const timestep = graph.input('timestep', 'float32', [batch]);
  const { sample: eps } = unet2DCondition(new Params(graph), unet, { sample, timestep, encoderHiddenStates: lastHiddenState });
  const target = graph.input('noise', 'float32', [batch, channels, latentSize, latentSize]);
  const weight = graph.input('loss_weight', 'float32', [batch, 1, 1, 1]);
  const d = Sub(eps, target);
  return { graph, loss: ReduceMean(Mul(weight, Mul(d, d)), undefined, false) };
}

/** Split the trainer's parameters into the two components by checkpoint key. */
export function splitTeacherWeights(params: ReadonlyMap<string, Tensor<'float32'>>): TeacherWeights {
  const textEncoder = new Map<string, Tensor<'float32'>>();
  const unet = new Map<string, Tensor<'float32'>>();
  for (const [k, v] of params) (k.startsWith('text_model.') ? textEncoder : unet).set(k, v);
  return { textEncoder, unet };
}

export async function runTeacherStage(o: TeacherStageOptions, io: StageIO): Promise<LoopResult & { weights: TeacherWeights; unet: UNet2DConditionConfig; textEncoder: CLIPTextConfig }> {
  const d = { ...TEACHER_STAGE_DEFAULTS, ...definedOnly(o) };
  const files = microTokenizerFiles();
  const tokenizer = CLIPTokenizer.fromFiles(files);
  const text = o.textEncoder ?? parseCLIPTextConfig(microTextEncoderConfig(tokenizer, files.size), 'micro text_encoder');
  const unet = o.unet ?? parseUNetConfig(MICRO_UNET, 'micro unet');
  const channels = o.vae.config.latent_channels;
  const { encoder, decoder, latentSize } = await vaeSessions(o.runtime, o.vae.config, o.vae.weights, d.batch);
  await decoder.dispose();
  const { graph, loss } = teacherTrainingGraph(text, unet, d.batch, latentSize, channels);
  const generator = new Generator(d.seed);
  for (const [name, t] of o.textEncoderWeights ?? []) {
    if (!graph.parameterNames.has(name)) throw new Error(`teacher stage: the text encoder weights hold ${name}, which the text encoder does not have`);
    graph.bind(name, t);
  }
  bindRandom(graph, generator);
  const trainer = await Trainer.create({ runtime: o.runtime, graph, loss, trainable: makeTrainable(graph, () => true), optimizer: adamw({ lr: cosineWithWarmup(d.lr, d.steps, 200), weightDecay: 1e-2 }), clipGradNorm: 1, ema: { decay: d.ema } });
  // What the model folder gets: the EMA of the weights (the raw ones stay in the checkpoint to resume from).
  const exported = () => splitTeacherWeights(trainer.emaParams() ?? trainer.params());
  const acp = alphasCumprod();
  const scale = o.vae.config.scaling_factor;
  const latentShape = [d.batch, channels, latentSize, latentSize];
  const batchOf = async (step: number): Promise<Record<string, Tensor>> => {
    const samples = Array.from({ length: d.batch }, (_, j) => shapeSample(SPLIT_SEEDS.train, step * d.batch + j));
    const posterior = await encoder.run({ image: imagesToTensor(samples.map((s) => s.image)) }, ['mean', 'logvar']);
    const mean = posterior['mean'] as Tensor<'float32'>;
    const logvar = posterior['logvar'] as Tensor<'float32'>;
    const z = generator.randn(latentShape);
    const noise = generator.randn(latentShape);
    // Timesteps and caption dropout from the same stream: [t, dropout] per sample.
    const u = uniforms(generator, 2 * d.batch);
    const per = z.data.length / d.batch;
    const sample = new Float32Array(z.data.length);
    const timestep = new Float32Array(d.batch);
    const weight = new Float32Array(d.batch);
    for (let b = 0; b < d.batch; b++) {
      const t = Math.min(999, Math.floor(u[2 * b]! * 1000));
      timestep[b] = t;
      const snr = acp[t]! / (1 - acp[t]!);
      weight[b] = d.snrGamma > 0 ? Math.min(snr, d.snrGamma) / snr : 1;
      const a = Math.sqrt(acp[t]!);
      const s = Math.sqrt(1 - acp[t]!);
      for (let i = b * per; i < (b + 1) * per; i++) {
        const x0 = (mean.data[i]! + Math.exp(0.5 * logvar.data[i]!) * z.data[i]!) * scale;
        sample[i] = a * x0 + s * noise.data[i]!;
      }
    }
    const captions = samples.map((s, b) => (u[2 * b + 1]! < d.captionDropout ? '' : s.caption));
    return { input_ids: tokenizer.call(captions, { maxLength: MICRO_MAX_LENGTH }).inputIds, sample: new Tensor('float32', latentShape, sample), timestep: new Tensor('float32', [d.batch], timestep), noise, loss_weight: new Tensor('float32', [d.batch, 1, 1, 1], weight) };
  };
  try {
    const result = await runLoop(
      {
        ...loopSettings('teacher', o, d.steps, 500),
        trainer,
        generator,
        batch: batchOf,
        save: async (dir) => {
          await saveCheckpoint(dir, { component: 'unet', config: unet, weights: splitTeacherWeights(trainer.params()).unet, trainer: trainer.state(), rng: generator.getState(), meta: { stage: 'teacher', text_encoder: text } });
          await o.onCheckpoint?.(trainer.stepCount, exported(), { textEncoder: text, unet });
        },
        checkResume: (c: LoadedCheckpoint) => {
          if (JSON.stringify(c.config) !== JSON.stringify(unet)) throw new Error(`${c.dir}: trained with another U-Net config`);
        },
        meta: { batch: d.batch, lr: d.lr, caption_dropout: d.captionDropout, snr_gamma: d.snrGamma, ema: d.ema, seed: d.seed, unet, text_encoder: text, vae_scaling_factor: scale },
      },
      io,
    );
    return { ...result, weights: exported(), unet, textEncoder: text };
  } finally {
    await trainer.dispose();
    await encoder.dispose();
  }
}
