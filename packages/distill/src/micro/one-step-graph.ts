// What every one-step stage shares (the student alone, the sketch ControlNet): x0 from the student's ε at t = 999,
// and the loss against a target latent through the frozen teacher U-Net's encoder.
import { Add, Concat, Div, Mul, Params, Sub, type Graph, type Value } from '@sdxs/graph';
import { Tensor, type Generator } from '@sdxs/tensor';
import { unetDownPath, type UNet2DConditionConfig } from '@sdxs/unet';
import { featureMatchingLoss } from '../losses/feature-matching.js';
import { mseLoss } from '../losses/mse.js';
import { alphasCumprod } from './configs.js';
import { uniforms } from './random.js';

/** The timestep of the one step: the last of the 1000 training timesteps, as SDXS's released models use. */
export const ONE_STEP_TIMESTEP = 999;

export type OneStepLoss = 'feature-matching' | 'mse';

/**
 * x0 = (x_T − √(1−ᾱ)·ε)/√ᾱ at t = 999: what one DPM-Solver++/DDIM/Euler step from pure noise returns (Euler's σ =
 * 14.6146 is √((1−ᾱ)/ᾱ), and its scaled input is this x_T). ε's errors reach x0 multiplied by ≈ 14.6.
 */
export function oneStepX0(noise: Value, eps: Value): Value {
  const acp = alphasCumprod()[ONE_STEP_TIMESTEP]!;
  return Div(Sub(noise, Mul(eps, Math.fround(Math.sqrt(1 - acp)))), Math.fround(Math.sqrt(acp)));
}

export interface OneStepLossOptions {
  loss: OneStepLoss;
  /** Weight of the latent MSE added to feature matching. */
  mseWeight: number;
  /** The frozen feature extractor (its parameters under `teacher.`). */
  teacher: UNet2DConditionConfig;
  /** The text conditioning the teacher encoder sees (the student's). */
  context: Value;
}

/**
 * The one-step loss between `x0` and the target latent input `latents`. Feature matching noises both latents
 * alike (inputs `feature_noise`, `feature_alpha`, `feature_sigma`, `feature_timestep`; see `featureFeeds`) and runs
 * the teacher encoder once over both; the latent MSE is also the graph output `latent_mse`.
 */
export function oneStepLoss(graph: Graph, x0: Value, o: OneStepLossOptions): Value {
  const shape = x0.shape.map(Number);
  const batch = shape[0]!;
  const target = graph.input('latents', 'float32', shape);
  const mse = mseLoss(x0, target);
  graph.output(mse, 'latent_mse');
  if (o.loss === 'mse') return mse;
  const noise = graph.input('feature_noise', 'float32', shape);
  const alpha = graph.input('feature_alpha', 'float32', [batch, 1, 1, 1]);
  const sigma = graph.input('feature_sigma', 'float32', [batch, 1, 1, 1]);
  const t = graph.input('feature_timestep', 'float32', [batch]);
  const noised = (x: Value) => Add(Mul(alpha, x), Mul(sigma, noise));
  // One pass of the teacher encoder over [student; target]: half the graph of two passes, one set of weights.
  const both = Concat([noised(x0), noised(target)], 0);
  const path = unetDownPath(new Params(graph, 'teacher'), o.teacher, { sample: both, timestep: Concat([t, t], 0), encoderHiddenStates: Concat([o.context, o.context], 0) });
  const fm = featureMatchingLoss([both, ...path.skips]);
  return o.mseWeight > 0 ? Add(fm, Mul(mse, o.mseWeight)) : fm;
}

/**
 * Timesteps drawn uniformly in [lo, hi] per sample (from uniforms `u`) with their √ᾱ and √(1−ᾱ): `<prefix>timestep`
 * [B], `<prefix>alpha` and `<prefix>sigma` [B, 1, 1, 1], the inputs that noise a latent to t inside a graph.
 */
export function timestepFeeds(u: Float32Array, lo: number, hi: number, prefix: string): Record<string, Tensor> {
  const acp = alphasCumprod();
  const b = u.length;
  const t = Float32Array.from(u, (v) => Math.round(lo + v * (hi - lo)));
  return {
    [`${prefix}timestep`]: new Tensor('float32', [b], t),
    [`${prefix}alpha`]: new Tensor('float32', [b, 1, 1, 1], Float32Array.from(t, (x) => Math.sqrt(acp[x]!))),
    [`${prefix}sigma`]: new Tensor('float32', [b, 1, 1, 1], Float32Array.from(t, (x) => Math.sqrt(1 - acp[x]!))),
  };
}

/** The feature-matching inputs of one batch: a timestep per sample drawn from `range`, and the shared noise. */
export function featureFeeds(generator: Generator, shape: readonly number[], range: readonly [number, number]): Record<string, Tensor> {
  const feeds = timestepFeeds(uniforms(generator, shape[0]!), range[0], range[1], 'feature_');
  return { ...feeds, feature_noise: generator.randn(shape) };
}

/** The student's timestep input: 999 for each sample. */
export function oneStepTimesteps(batch: number): Tensor<'float32'> {
  return new Tensor('float32', [batch], new Float32Array(batch).fill(ONE_STEP_TIMESTEP));
}
