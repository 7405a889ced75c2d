/**
 * Ancestral Euler sampler (k-diffusion `sample_euler_ancestral`) — diffusers'
 * `EulerAncestralDiscreteScheduler` (diffusers/schedulers/scheduling_euler_ancestral_discrete.py, 0.40).
 * Each step goes down to σ_down with an Euler step and adds fresh noise of σ_up, where
 * σ_up² = σ_to²(σ_from² − σ_to²)/σ_from² and σ_down² = σ_to² − σ_up².
 *
 * The noise comes from `options.generator` (bit-identical to `torch.randn` with a seeded
 * `torch.Generator`), so a run matches diffusers given the same seed and the same draws before it.
 */
import type { Tensor } from '@sdxs/tensor';
import { alphasCumprodOf, makeBetas, sigmasOf } from './common/betas.js';
import { enumField, intField, parseConfig, readJson, type ConfigOf } from './common/config.js';
import { map1, map2, map3, mapBatched, perBatch } from './common/elementwise.js';
import { betaFields, checkTrainedBetas, spacingField } from './common/fields.js';
import { f32, sqrtF32 } from './common/float32.js';
import { LazyGenerator, drawNoise } from './common/noise.js';
import { npInterpIndex } from './common/numpy.js';
import { checkStepCount, floatTimesteps, indexForTimestep } from './common/timesteps.js';
import type { Scheduler, SchedulerOutput, StepCoefficients, StepOptions } from './scheduler.js';

const CLASS = 'EulerAncestralDiscreteScheduler';

/** scheduler_config.json fields of EulerAncestralDiscreteScheduler, with diffusers' defaults. */
export const EULER_ANCESTRAL_DISCRETE_FIELDS = {
  ...betaFields({ beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' }),
  // diffusers raises NotImplementedError for "sample" in this class.
  prediction_type: enumField(['epsilon', 'v_prediction'], 'epsilon', { unsupported: ['sample'] }),
  timestep_spacing: spacingField('linspace'),
  steps_offset: intField(0),
};

export type EulerAncestralDiscreteConfig = ConfigOf<typeof EULER_ANCESTRAL_DISCRETE_FIELDS>;

export interface EulerAncestralDiscreteStepOptions extends StepOptions {
  /** Noise to add instead of drawing it (shape of the sample). */
  readonly noise?: Tensor<'float32'>;
}

export interface EulerAncestralDiscreteOutput extends SchedulerOutput {
  readonly predOriginalSample: Tensor<'float32'>;
}

/** σ_up and σ_down of a step from σ_from to σ_to, in diffusers' float32 op order. */
function ancestralSigmas(sigmaFrom: number, sigmaTo: number): { up: number; down: number } {
  const toSq = f32(sigmaTo * sigmaTo);
  const fromSq = f32(sigmaFrom * sigmaFrom);
  const up = sqrtF32(f32(f32(toSq * f32(fromSq - toSq)) / fromSq));
  const down = sqrtF32(f32(toSq - f32(up * up)));
  return { up, down };
}

/**
 * diffusers' EulerAncestralDiscreteScheduler.
 *
 * @example
 * const s = new EulerAncestralDiscreteScheduler({ beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012 });
 * s.setTimesteps(4);
 * const generator = new Generator(42);
 * const { prevSample } = s.step(eps, s.timesteps[0]!, latents, { generator });
 */
export class EulerAncestralDiscreteScheduler
  implements Scheduler<EulerAncestralDiscreteOutput, EulerAncestralDiscreteStepOptions>
{
  static readonly className = CLASS;
  readonly className = CLASS;
  readonly order = 1;
  readonly config: EulerAncestralDiscreteConfig;
  readonly betas: Float32Array;
  readonly alphasCumprod: Float32Array;
  numInferenceSteps: number | null = null;
  private ts: number[];
  private sig: number[];
  private index: number | null = null;
  private begin: number | null = null;
  private readonly ownGenerator = new LazyGenerator();

  /** Reads a scheduler_config.json object (or its text); `file` names it in errors. */
  static fromConfig(json: unknown, file: string): EulerAncestralDiscreteScheduler {
    return new EulerAncestralDiscreteScheduler(
      parseConfig(CLASS, EULER_ANCESTRAL_DISCRETE_FIELDS, readJson(json), file, checkTrainedBetas),
      file,
    );
  }

  constructor(config: Partial<EulerAncestralDiscreteConfig> = {}, file = `<${CLASS} config>`) {
    this.config = parseConfig(CLASS, EULER_ANCESTRAL_DISCRETE_FIELDS, config, file, checkTrainedBetas);
    this.betas = makeBetas(this.config);
    this.alphasCumprod = alphasCumprodOf(this.betas);
    if (this.config.rescale_betas_zero_snr) this.alphasCumprod[this.alphasCumprod.length - 1] = 2 ** -24;
    this.sig = [...Array.from(sigmasOf(this.alphasCumprod)).reverse(), 0];
    this.ts = Array.from({ length: this.config.num_train_timesteps }, (_, i) => this.config.num_train_timesteps - 1 - i);
  }

  get timesteps(): readonly number[] {
    return this.ts;
  }

  get sigmas(): readonly number[] {
    return this.sig;
  }

  /** σ_max for "linspace"/"trailing" spacing, else √(σ_max² + 1) (float32). */
  get initNoiseSigma(): number {
    const max = this.sig.reduce((a, b) => Math.max(a, b), -Infinity);
    const spacing = this.config.timestep_spacing;
    return spacing === 'linspace' || spacing === 'trailing' ? max : sqrtF32(f32(f32(max * max) + 1));
  }

  get stepIndex(): number | null {
    return this.index;
  }

  setBeginIndex(beginIndex = 0): void {
    this.begin = beginIndex;
  }

  setTimesteps(numInferenceSteps: number): void {
    const c = this.config;
    checkStepCount(CLASS, numInferenceSteps, c.num_train_timesteps);
    this.numInferenceSteps = numInferenceSteps;
    const timesteps = floatTimesteps(c.timestep_spacing, c.num_train_timesteps, numInferenceSteps, c.steps_offset);
    const trainSigmas = sigmasOf(this.alphasCumprod);
    this.sig = [...timesteps.map((t) => npInterpIndex(t, trainSigmas)), 0].map(f32);
    this.ts = timesteps;
    this.index = null;
    this.begin = null;
  }

  scaleModelInput(sample: Tensor<'float32'>, timestep: number): Tensor<'float32'> {
    this.index ??= this.begin ?? indexForTimestep(CLASS, this.ts, timestep);
    const sigma = this.sigmaAt(this.index);
    const divisor = sqrtF32(f32(f32(sigma * sigma) + 1));
    return map1(sample, (x) => x / divisor);
  }

  step(
    modelOutput: Tensor<'float32'>,
    timestep: number,
    sample: Tensor<'float32'>,
    options: EulerAncestralDiscreteStepOptions = {},
  ): EulerAncestralDiscreteOutput {
    this.index ??= this.begin ?? indexForTimestep(CLASS, this.ts, timestep);
    const i = this.index;
    const sigma = this.sigmaAt(i);
    let predOriginalSample: Tensor<'float32'>;
    if (this.config.prediction_type === 'epsilon') {
      predOriginalSample = map2(CLASS, sample, modelOutput, (s, e) => s - f32(sigma * e));
    } else {
      const sigmaSq1 = f32(f32(sigma * sigma) + 1);
      const cOut = f32(-sigma / sqrtF32(sigmaSq1));
      predOriginalSample = map2(CLASS, sample, modelOutput, (s, v) => f32(v * cOut) + f32(s / sigmaSq1));
    }
    const { up, down } = ancestralSigmas(sigma, this.sigmaAt(i + 1));
    const dt = f32(down - sigma);
    // diffusers draws the noise on every step, the last one (σ_up = 0) included: the draws stay aligned.
    const noise = drawNoise(CLASS, modelOutput.shape, options.noise, options.generator, this.ownGenerator.get);
    const prevSample = map3(CLASS, sample, predOriginalSample, noise, (s, x0, n) => {
      const euler = f32(s + f32(f32(f32(s - x0) / sigma) * dt));
      return euler + f32(n * up);
    });
    this.index = i + 1;
    return { prevSample, predOriginalSample };
  }

  addNoise(originalSamples: Tensor<'float32'>, noise: Tensor<'float32'>, timesteps: number | readonly number[]): Tensor<'float32'> {
    const sigmas = perBatch(CLASS, originalSamples, timesteps).map((t) =>
      this.sigmaAt(this.begin === null ? indexForTimestep(CLASS, this.ts, t) : (this.index ?? this.begin)),
    );
    return mapBatched(CLASS, originalSamples, noise, sigmas, (x, n, s) => x + f32(n * s));
  }

  stepCoefficients(timestep: number): StepCoefficients {
    const i = indexForTimestep(CLASS, this.ts, timestep);
    const sigma = this.sigmaAt(i);
    const { up, down } = ancestralSigmas(sigma, this.sigmaAt(i + 1));
    const ratio = (down - sigma) / sigma;
    const sigmaSq1 = f32(f32(sigma * sigma) + 1);
    const x0Coef =
      this.config.prediction_type === 'epsilon'
        ? { sample: 1, modelOutput: -sigma, clip: null }
        : { sample: 1 / sigmaSq1, modelOutput: -sigma / sqrtF32(sigmaSq1), clip: null };
    return {
      stepIndex: i,
      timestep: this.ts[i]!,
      inputDivisor: sqrtF32(sigmaSq1),
      x0Coef,
      prevCoef: { sample: 1 + ratio, modelOutput: 0, predOriginal: -ratio, noise: up },
    };
  }

  private sigmaAt(i: number): number {
    const sigma = this.sig[i];
    if (sigma === undefined) throw new RangeError(`${CLASS}: step ${i} is past the end of the schedule (${this.ts.length} steps)`);
    return sigma;
  }
}
