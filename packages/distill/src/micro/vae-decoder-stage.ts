// Stage `vae-decoder`: the VAE's decoder trained further with its encoder frozen. The latents (and so the
// scaling factor and every model trained on them) stay exactly as they were; only decode(encode(x)) gets closer to
// x. Reconstruction from the posterior mean, MSE (the loss PSNR measures).
import type { AutoencoderKLConfig } from '@sdxs/decoder';
import { AutoencoderKL } from '@sdxs/decoder';
import { bindCheckpoint, Graph, Params, stopGradient, type Value } from '@sdxs/graph';
import { imagesToTensor, shapeSample, SPLIT_SEEDS } from '@sdxs/shapes';
import { Generator, type Tensor } from '@sdxs/tensor';
import { saveCheckpoint } from '../checkpoint.js';
import { mseLoss } from '../losses/mse.js';
import { adamw } from '../optim/adamw.js';
import { mapStore } from '../params/store.js';
import { makeTrainable } from '../params/trainable.js';
import { TRAINING_LOWERING } from '../recipes/decoder.js';
import { Trainer } from '../trainer.js';
import { definedOnly, loopSettings, runLoop, type LoopResult, type StageIO, type StageRunOptions } from './loop.js';
import { cosineWithWarmup } from './schedule.js';

export interface VaeDecoderStageOptions extends StageRunOptions {
  /** The trained VAE: its encoder stays frozen, its decoder is the starting point. */
  vae: { config: AutoencoderKLConfig; weights: ReadonlyMap<string, Tensor> };
}

export const VAE_DECODER_STAGE_DEFAULTS = { steps: 600, batch: 16, lr: 5e-4, seed: 0 } as const;

/** Trainable: the decoder side (`decoder.*`, `post_quant_conv.*`). */
export const VAE_DECODER_PARAMS = /^(decoder|post_quant_conv)\./;

/** image → frozen encoder's mean → decoder → MSE against the image. */
export async function vaeDecoderTrainingGraph(vae: VaeDecoderStageOptions['vae'], batch: number): Promise<{ graph: Graph; loss: Value }> {
  const { config } = vae;
  const graph = new Graph({ name: 'micro_vae_decoder', target: 'cpu', lowering: TRAINING_LOWERING });
  const size = Number(config.sample_size);
  const image = graph.input('image', 'float32', [batch, config.in_channels, size, size]);
  const model = new AutoencoderKL(config);
  const root = new Params(graph);
  const { mean } = model.encode(root, image);
  const recon = model.decode(root, stopGradient(mean));
  await bindCheckpoint(graph, [mapStore('vae', vae.weights)]);
  return { graph, loss: mseLoss(recon, image) };
}

export async function runVaeDecoderStage(o: VaeDecoderStageOptions, io: StageIO): Promise<LoopResult & { weights: Map<string, Tensor> }> {
  const d = { ...VAE_DECODER_STAGE_DEFAULTS, ...definedOnly(o) };
  const { graph, loss } = await vaeDecoderTrainingGraph(o.vae, d.batch);
  const generator = new Generator(d.seed);
  const trainer = await Trainer.create({ runtime: o.runtime, graph, loss, trainable: makeTrainable(graph, VAE_DECODER_PARAMS), optimizer: adamw({ lr: cosineWithWarmup(d.lr, d.steps, 50), weightDecay: 0 }), clipGradNorm: 1 });
  // The whole VAE with the trained decoder: frozen encoder weights, then the trainer's.
  const whole = () => new Map<string, Tensor>([...[...o.vae.weights].filter(([k]) => !VAE_DECODER_PARAMS.test(k)), ...trainer.params()]);
  try {
    const result = await runLoop(
      {
        ...loopSettings('vae-decoder', o, d.steps, 200),
        trainer,
        generator,
        // Other images than the first stage saw (indices from 20 M on), in a stream of their own.
        batch: (step) => ({ image: imagesToTensor(Array.from({ length: d.batch }, (_, j) => shapeSample(SPLIT_SEEDS.train, 20_000_000 + step * d.batch + j).image)) }),
        save: (dir) => saveCheckpoint(dir, { component: 'vae', config: o.vae.config, weights: whole(), trainer: trainer.state(), rng: generator.getState(), meta: { stage: 'vae-decoder' } }),
        meta: { batch: d.batch, lr: d.lr, seed: d.seed },
      },
      io,
    );
    return { ...result, weights: whole() };
  } finally {
    await trainer.dispose();
  }
}
