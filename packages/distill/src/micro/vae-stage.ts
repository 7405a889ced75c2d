// Stage `vae` of the micro model: an AutoencoderKL trained from nothing on the shapes data set (reconstruction MSE +
// a small KL term, latents sampled from the posterior), then `scaling_factor` = 1/std of the latents, as SD did.
import { AutoencoderKL, type AutoencoderKLConfig } from '@sdxs/decoder';
import { Add, Exp, Graph, Mul, Params, ReduceMean, Sub, type Value } from '@sdxs/graph';
import { imagesToTensor, shapeSample, SPLIT_SEEDS } from '@sdxs/shapes';
import { Generator, Tensor } from '@sdxs/tensor';
import { saveCheckpoint } from '../checkpoint.js';
import { mseLoss } from '../losses/mse.js';
import { adamw } from '../optim/adamw.js';
import { bindRandom } from '../params/init.js';
import { makeTrainable } from '../params/trainable.js';
import { TRAINING_LOWERING } from '../recipes/decoder.js';
import { Trainer } from '../trainer.js';
import { MICRO_VAE } from './configs.js';
import { definedOnly, loopSettings, runLoop, type LoopResult, type StageIO, type StageRunOptions } from './loop.js';
import { cosineWithWarmup } from './schedule.js';

export interface VaeStageOptions extends StageRunOptions {
  klWeight?: number;
  config?: AutoencoderKLConfig;
}

export const VAE_STAGE_DEFAULTS = { steps: 1000, batch: 16, lr: 2e-3, klWeight: 1e-5, seed: 0 } as const;

/** KL(q(z|x) ‖ N(0, I)) per latent element, averaged: ½·mean(μ² + σ² − 1 − log σ²). */
function klTerm(mean: Value, logvar: Value): Value {
  const t = Sub(Add(Mul(mean, mean), Exp(logvar)), Add(logvar, 1));
  return Mul(ReduceMean(t, undefined, false), 0.5);
}

/** The VAE training graph: image → posterior sample → reconstruction; loss = MSE + klWeight·KL. */
export function vaeTrainingGraph(config: AutoencoderKLConfig, batch: number, klWeight: number): { graph: Graph; loss: Value } {
  const graph = new Graph({ name: 'micro_vae', target: 'cpu', lowering: TRAINING_LOWERING });
  const size = Number(config.sample_size);
  const f = 2 ** (config.block_out_channels.length - 1);
  const image = graph.input('image', 'float32', [batch, config.in_channels, size, size]);
  const noise = graph.input('noise', 'float32', [batch, config.latent_channels, size / f, size / f]);
  const vae = new AutoencoderKL(config);
  const root = new Params(graph);
  const { mean, logvar } = vae.encode(root, image);
  const z = Add(mean, Mul(Exp(Mul(logvar, 0.5)), noise));
  const recon = vae.decode(root, z);
  const loss = Add(mseLoss(recon, image), Mul(klTerm(mean, logvar), klWeight));
  return { graph, loss };
}

export async function runVaeStage(o: VaeStageOptions, io: StageIO): Promise<LoopResult & { config: AutoencoderKLConfig }> {
  const d = { ...VAE_STAGE_DEFAULTS, ...definedOnly(o) };
  const config = o.config ?? AutoencoderKL.fromConfig(MICRO_VAE).config;
  const { graph, loss } = vaeTrainingGraph(config, d.batch, d.klWeight);
  const generator = new Generator(d.seed);
  bindRandom(graph, generator, { gain: Math.SQRT2 });
  startWithSmallVariance(graph, config.latent_channels);
  const trainer = await Trainer.create({
    runtime: o.runtime,
    graph,
    loss,
    trainable: makeTrainable(graph, () => true),
    optimizer: adamw({ lr: cosineWithWarmup(d.lr, d.steps, 100), weightDecay: 0 }),
    clipGradNorm: 1,
  });
  const f = 2 ** (config.block_out_channels.length - 1);
  const latent = [d.batch, config.latent_channels, Number(config.sample_size) / f, Number(config.sample_size) / f];
  try {
    const result = await runLoop(
      {
        ...loopSettings('vae', o, d.steps, 500),
        trainer,
        generator,
        batch: (step) => ({
          image: imagesToTensor(Array.from({ length: d.batch }, (_, j) => shapeSample(SPLIT_SEEDS.train, step * d.batch + j).image)),
          noise: generator.randn(latent),
        }),
        save: (dir) => saveCheckpoint(dir, { component: 'vae', config, weights: trainer.params(), trainer: trainer.state(), rng: generator.getState(), meta: { stage: 'vae' } }),
        meta: { batch: d.batch, lr: d.lr, kl_weight: d.klWeight, seed: d.seed, config },
      },
      io,
    );
    return { ...result, config };
  } finally {
    await trainer.dispose();
  }
}

/**
 * Start the posterior's log-variance at −8 (σ ≈ 0.02) through quant_conv's bias: at the default 0 the decoder first
 * sees latents drowned in unit noise and learns nothing until the variance has been pushed down (measured: the loss
 * stalls at the images' variance for the first hundreds of steps).
 */
function startWithSmallVariance(graph: Graph, latentChannels: number): void {
  const bias = graph.initializers.get('quant_conv.bias')?.data;
  if (!bias || !('dtype' in bias) || bias.dtype !== 'float32') throw new Error('vae stage: quant_conv.bias is not a bound float32 tensor');
  const data = bias.data as Float32Array;
  for (let c = latentChannels; c < 2 * latentChannels; c++) data[c] = -8;
}


