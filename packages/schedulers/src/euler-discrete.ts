/**
 * Euler sampler (Karras et al. 2022, Algorithm 2) — diffusers' `EulerDiscreteScheduler`
 * (diffusers/schedulers/scheduling_euler_discrete.py, 0.40). The SDXS one-step path: with "trailing"
 * spacing and one step, t = 999, σ = σ_max = init_noise_sigma, and the step returns x0 = x − σ·ε.
 *
 * Numbers follow diffusers' dtypes: the schedule (betas, alphas_cumprod, sigmas) in float32 torch ops, the
 * timestep spacing and interpolation in float64 NumPy, every tensor op of `step` rounded to float32.
 */
import type { Tensor } from '@sdxs/tensor';
import { alphasCumprodOf, makeBetas, sigmasOf } from './common/betas.js';
import { boolField, enumField, intField, nullableFloatField, parseConfig, readJson, type ConfigOf } from './common/config.js';
import { map1, map2, mapBatched, perBatch } from './common/elementwise.js';
import { betaFields, checkTrainedBetas, spacingField } from './common/fields.js';
import { f32, logF32, sqrtF32 } from './common/float32.js';
import { LazyGenerator, drawNoise } from './common/noise.js';
import { npInterpIndex } from './common/numpy.js';
import { exponentialSigmas, karrasSigmas, sigmaToT } from './common/sigmas.js';
import { checkStepCount, floatTimesteps, indexForTimestep } from './common/timesteps.js';
import type { Scheduler, SchedulerOutput, StepCoefficients, StepOptions } from './scheduler.js';

const CLASS = 'EulerDiscreteScheduler';

/** scheduler_config.json fields of EulerDiscreteScheduler, with diffusers' defaults. */
export const EULER_DISCRETE_FIELDS = {
  ...betaFields({ beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' }),
  // "original_sample" is diffusers' old name for "sample", still accepted by this class.
  prediction_type: enumField(['epsilon', 'v_prediction', 'sample'], 'epsilon', { aliases: { original_sample: 'sample' } }),
  interpolation_type: enumField(['linear'], 'linear', { unsupported: ['log_linear'] }),
  use_karras_sigmas: boolField(false, { nullable: true }),
  use_exponential_sigmas: boolField(false, { nullable: true }),
  use_beta_sigmas: boolField(false, { nullable: true, unsupported: true }),
  sigma_min: nullableFloatField(null),
  sigma_max: nullableFloatField(null),
  timestep_spacing: spacingField('linspace'),
  timestep_type: enumField(['discrete', 'continuous'], 'discrete'),
  steps_offset: intField(0),
  final_sigmas_type: enumField(['zero', 'sigma_min'], 'zero'),
};

export type EulerDiscreteConfig = ConfigOf<typeof EULER_DISCRETE_FIELDS>;

/** `step()` options: diffusers' stochastic "churn" (off by default) and the noise source it uses. */
export interface EulerDiscreteStepOptions extends StepOptions {
  readonly sChurn?: number;
  readonly sTmin?: number;
  readonly sTmax?: number;
  readonly sNoise?: number;
  /** Noise to use instead of drawing (only drawn when churn is active). */
  readonly noise?: Tensor<'float32'>;
}

export interface EulerDiscreteOutput extends SchedulerOutput {
  /** x0 predicted from the model output at this step. */
  readonly predOriginalSample: Tensor<'float32'>;
}

function check(config: EulerDiscreteConfig): string[] {
  const problems = checkTrainedBetas(config);
  if (config.use_karras_sigmas && config.use_exponential_sigmas) {
    problems.push('fields "use_karras_sigmas" and "use_exponential_sigmas": only one can be true');
  }
  return problems;
}

/**
 * diffusers' EulerDiscreteScheduler.
 *
 * @example
 * const s = EulerDiscreteScheduler.fromConfig(json, 'scheduler/scheduler_config.json');
 * s.setTimesteps(1);                  // timesteps [999], sigmas [14.6146…, 0] for SD's scaled_linear betas
 * const x = s.scaleModelInput(latents, 999);
 * const { prevSample } = s.step(eps, 999, latents);
 */
export class EulerDiscreteScheduler implements Scheduler<EulerDiscreteOutput, EulerDiscreteStepOptions> {
  static readonly className = CLASS;
  readonly className = CLASS;
  readonly order = 1;
  readonly config: EulerDiscreteConfig;
  /** float32 betas and their cumulative alpha product, as `__init__` builds them. */
  readonly betas: Float32Array;
  readonly alphasCumprod: Float32Array;
  numInferenceSteps: number | null = null;
  private ts: number[];
  private sig: number[];
  private index: number | null = null;
  private begin: number | null = null;
  private readonly ownGenerator = new LazyGenerator();

  /** Reads a scheduler_config.json object (or its text); `file` names it in errors. */
  static fromConfig(json: unknown, file: string): EulerDiscreteScheduler {
    return new EulerDiscreteScheduler(parseConfig(CLASS, EULER_DISCRETE_FIELDS, readJson(json), file, check), file);
  }

  /** `config` holds scheduler_config.json fields; missing ones take diffusers' defaults. */
  constructor(config: Partial<EulerDiscreteConfig> = {}, file = `<${CLASS} config>`) {
    this.config = parseConfig(CLASS, EULER_DISCRETE_FIELDS, config, file, check);
    this.betas = makeBetas(this.config);
    this.alphasCumprod = alphasCumprodOf(this.betas);
    // Close to 0 without being 0, so the first sigma is finite (diffusers: float16's smallest subnormal).
    if (this.config.rescale_betas_zero_snr) this.alphasCumprod[this.alphasCumprod.length - 1] = 2 ** -24;
    const sigmas = Array.from(sigmasOf(this.alphasCumprod)).reverse();
    this.ts = Array.from({ length: this.config.num_train_timesteps }, (_, i) => this.config.num_train_timesteps - 1 - i);
    if (this.continuousV()) this.ts = sigmas.map((s) => f32(0.25 * logF32(s)));
    this.sig = [...sigmas, 0];
  }

  get timesteps(): readonly number[] {
    return this.ts;
  }

  /** float32 noise levels, one per timestep plus the final one (0, or σ_min with final_sigmas_type "sigma_min"). */
  get sigmas(): readonly number[] {
    return this.sig;
  }

  /** σ_max for "linspace"/"trailing" spacing, else √(σ_max² + 1) (float32, as diffusers returns it). */
  get initNoiseSigma(): number {
    const max = this.sig.reduce((a, b) => Math.max(a, b), -Infinity);
    const spacing = this.config.timestep_spacing;
    return spacing === 'linspace' || spacing === 'trailing' ? max : sqrtF32(f32(f32(max * max) + 1));
  }

  /** The index of the next step, or null before the first `scaleModelInput`/`step`. */
  get stepIndex(): number | null {
    return this.index;
  }

  /** Where an img2img run starts (diffusers' `set_begin_index`, called by pipelines before denoising). */
  setBeginIndex(beginIndex = 0): void {
    this.begin = beginIndex;
  }

  setTimesteps(numInferenceSteps: number): void {
    const c = this.config;
    checkStepCount(CLASS, numInferenceSteps, c.num_train_timesteps);
    this.numInferenceSteps = numInferenceSteps;
    let timesteps: number[] = floatTimesteps(c.timestep_spacing, c.num_train_timesteps, numInferenceSteps, c.steps_offset);
    const trainSigmas = sigmasOf(this.alphasCumprod);
    let sigmas = timesteps.map((t) => npInterpIndex(t, trainSigmas));
    if (c.use_karras_sigmas || c.use_exponential_sigmas) {
      // The configured range, else the ends of the interpolated schedule (not of the training one).
      const sigmaMin = c.sigma_min ?? sigmas[sigmas.length - 1]!;
      const sigmaMax = c.sigma_max ?? sigmas[0]!;
      sigmas = c.use_karras_sigmas
        ? karrasSigmas(sigmaMin, sigmaMax, numInferenceSteps)
        : exponentialSigmas(sigmaMin, sigmaMax, numInferenceSteps);
      const logSigmas = trainSigmas.map(logF32);
      timesteps = sigmas.map((s) => sigmaToT(s, logSigmas));
    }
    const last = c.final_sigmas_type === 'sigma_min' ? trainSigmas[0]! : 0;
    this.sig = [...sigmas, last].map(f32);
    this.ts = this.continuousV() ? this.sig.slice(0, -1).map((s) => f32(0.25 * logF32(s))) : timesteps.map(f32);
    this.index = null;
    this.begin = null;
  }

  scaleModelInput(sample: Tensor<'float32'>, timestep: number): Tensor<'float32'> {
    this.index ??= this.initialIndex(timestep);
    const divisor = this.inputDivisor(this.index);
    return map1(sample, (x) => x / divisor);
  }

  step(
    modelOutput: Tensor<'float32'>,
    timestep: number,
    sample: Tensor<'float32'>,
    options: EulerDiscreteStepOptions = {},
  ): EulerDiscreteOutput {
    this.index ??= this.initialIndex(timestep);
    const i = this.index;
    const sigma = this.sigmaAt(i);
    const { sChurn = 0, sTmin = 0, sTmax = Infinity, sNoise = 1 } = options;
    const gamma = sTmin <= sigma && sigma <= sTmax ? Math.min(sChurn / (this.sig.length - 1), 2 ** 0.5 - 1) : 0;
    const sigmaHat = f32(sigma * f32(gamma + 1));
    let x = sample;
    if (gamma > 0) {
      const noise = drawNoise(CLASS, modelOutput.shape, options.noise, options.generator, this.ownGenerator.get);
      const scale = sqrtF32(f32(f32(sigmaHat * sigmaHat) - f32(sigma * sigma)));
      const noiseScale = f32(sNoise);
      x = map2(CLASS, sample, noise, (s, n) => s + f32(f32(n * noiseScale) * scale));
    }
    const predOriginalSample = this.predictOriginal(modelOutput, x, sigma, sigmaHat);
    const dt = f32(this.sigmaAt(i + 1) - sigmaHat);
    const prevSample = map2(CLASS, x, predOriginalSample, (s, x0) => s + f32(f32(f32(s - x0) / sigmaHat) * dt));
    this.index = i + 1;
    return { prevSample, predOriginalSample };
  }

  addNoise(originalSamples: Tensor<'float32'>, noise: Tensor<'float32'>, timesteps: number | readonly number[]): Tensor<'float32'> {
    const sigmas = perBatch(CLASS, originalSamples, timesteps).map((t) => this.sigmaAt(this.noiseIndex(t)));
    return mapBatched(CLASS, originalSamples, noise, sigmas, (x, n, s) => x + f32(n * s));
  }

  stepCoefficients(timestep: number): StepCoefficients {
    const i = indexForTimestep(CLASS, this.ts, timestep);
    const sigma = this.sigmaAt(i);
    const ratio = (this.sigmaAt(i + 1) - sigma) / sigma; // dt / σ: prev = x + (x − x0)·dt/σ
    const prevCoef = { sample: 1 + ratio, modelOutput: 0, predOriginal: -ratio, noise: 0 };
    const type = this.config.prediction_type;
    const x0Coef =
      type === 'epsilon'
        ? { sample: 1, modelOutput: -sigma, clip: null }
        : type === 'sample'
          ? { sample: 0, modelOutput: 1, clip: null }
          : { sample: 1 / f32(f32(sigma * sigma) + 1), modelOutput: -sigma / sqrtF32(f32(f32(sigma * sigma) + 1)), clip: null };
    return { stepIndex: i, timestep: this.ts[i]!, inputDivisor: this.inputDivisor(i), x0Coef, prevCoef };
  }

  /** x0 from the model output (epsilon: x − σ̂ε; v: c_out·v + c_skip·x with σ; sample: as is). */
  private predictOriginal(modelOutput: Tensor<'float32'>, sample: Tensor<'float32'>, sigma: number, sigmaHat: number): Tensor<'float32'> {
    const type = this.config.prediction_type;
    if (type === 'sample') return modelOutput;
    if (type === 'epsilon') return map2(CLASS, sample, modelOutput, (s, e) => s - f32(sigmaHat * e));
    const sigmaSq1 = f32(f32(sigma * sigma) + 1);
    const cOut = f32(-sigma / sqrtF32(sigmaSq1));
    return map2(CLASS, sample, modelOutput, (s, v) => f32(v * cOut) + f32(s / sigmaSq1));
  }

  /** √(σ² + 1) in float32: `scale_model_input` divides by it. */
  private inputDivisor(i: number): number {
    const sigma = this.sigmaAt(i);
    return sqrtF32(f32(f32(sigma * sigma) + 1));
  }

  private sigmaAt(i: number): number {
    const sigma = this.sig[i];
    if (sigma === undefined) throw new RangeError(`${CLASS}: step ${i} is past the end of the schedule (${this.ts.length} steps)`);
    return sigma;
  }

  private initialIndex(timestep: number): number {
    return this.begin ?? indexForTimestep(CLASS, this.ts, timestep);
  }

  /** diffusers' add_noise: timestep lookup without a begin index, else the current or the begin index. */
  private noiseIndex(timestep: number): number {
    if (this.begin === null) return indexForTimestep(CLASS, this.ts, timestep);
    return this.index ?? this.begin;
  }

  private continuousV(): boolean {
    return this.config.timestep_type === 'continuous' && this.config.prediction_type === 'v_prediction';
  }
}
