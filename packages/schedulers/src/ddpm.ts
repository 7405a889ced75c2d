/**
 * Denoising diffusion probabilistic models (Ho et al. 2020) — diffusers' `DDPMScheduler`
 * (diffusers/schedulers/scheduling_ddpm.py, 0.40): ancestral sampling with the posterior mean of eq. (7)
 * and the fixed variance β̃_t (or β_t). Integer timesteps; `alphas_cumprod` indexed by timestep.
 */
import type { Tensor } from '@sdxs/tensor';
import { alphasCumprodOf, makeBetas } from './common/betas.js';
import { boolField, enumField, floatField, intField, parseConfig, readJson, type ConfigOf } from './common/config.js';
import { map1, map2, mapBatched, perBatch } from './common/elementwise.js';
import { betaFields, checkTrainedBetas, spacingField } from './common/fields.js';
import { expF32, f32, logF32, sqrtF32 } from './common/float32.js';
import { LazyGenerator, drawNoise } from './common/noise.js';
import { checkStepCount, integerTimesteps } from './common/timesteps.js';
import type { Scheduler, SchedulerOutput, StepCoefficients, StepOptions } from './scheduler.js';

const CLASS = 'DDPMScheduler';

/** scheduler_config.json fields of DDPMScheduler, with diffusers' defaults. */
export const DDPM_FIELDS = {
  ...betaFields({ beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' }, ['sigmoid', 'laplace']),
  // "learned"/"learned_range" split a doubled model output into mean and variance; "fixed_large_log"
  // takes the square root of a log in diffusers' step. None of them is built here.
  variance_type: enumField(['fixed_small', 'fixed_small_log', 'fixed_large'], 'fixed_small', {
    unsupported: ['fixed_large_log', 'learned', 'learned_range'],
  }),
  clip_sample: boolField(true),
  prediction_type: enumField(['epsilon', 'sample', 'v_prediction'], 'epsilon'),
  thresholding: boolField(false, { unsupported: true }),
  dynamic_thresholding_ratio: floatField(0.995),
  clip_sample_range: floatField(1.0),
  sample_max_value: floatField(1.0),
  timestep_spacing: spacingField('leading'),
  steps_offset: intField(0),
};

export type DDPMConfig = ConfigOf<typeof DDPM_FIELDS>;

export interface DDPMStepOptions extends StepOptions {
  /** Variance noise to use instead of drawing it (diffusers draws it for t > 0 only). */
  readonly noise?: Tensor<'float32'>;
}

export interface DDPMOutput extends SchedulerOutput {
  readonly predOriginalSample: Tensor<'float32'>;
}

/** The float32 scalars of one DDPM step (names as in diffusers' `step`). */
interface DDPMScalars {
  alphaProdT: number;
  betaProdT: number;
  /** Coefficient of x0 and of x_t in the posterior mean, eq. (7). */
  predOriginalSampleCoeff: number;
  currentSampleCoeff: number;
  /** Standard deviation of the added noise (0 at t = 0). */
  std: number;
}

/**
 * diffusers' DDPMScheduler.
 *
 * @example
 * const s = new DDPMScheduler({ beta_schedule: 'squaredcos_cap_v2' });
 * s.setTimesteps(50);
 * for (const t of s.timesteps) sample = s.step(unet(sample, t), t, sample, { generator }).prevSample;
 */
export class DDPMScheduler implements Scheduler<DDPMOutput, DDPMStepOptions> {
  static readonly className = CLASS;
  readonly className = CLASS;
  readonly order = 1;
  readonly initNoiseSigma = 1.0;
  readonly config: DDPMConfig;
  readonly betas: Float32Array;
  readonly alphasCumprod: Float32Array;
  numInferenceSteps: number | null = null;
  private ts: number[];
  private readonly ownGenerator = new LazyGenerator();

  static fromConfig(json: unknown, file: string): DDPMScheduler {
    return new DDPMScheduler(parseConfig(CLASS, DDPM_FIELDS, readJson(json), file, checkTrainedBetas), file);
  }

  constructor(config: Partial<DDPMConfig> = {}, file = `<${CLASS} config>`) {
    this.config = parseConfig(CLASS, DDPM_FIELDS, config, file, checkTrainedBetas);
    this.betas = makeBetas(this.config);
    this.alphasCumprod = alphasCumprodOf(this.betas);
    this.ts = Array.from({ length: this.config.num_train_timesteps }, (_, i) => this.config.num_train_timesteps - 1 - i);
  }

  get timesteps(): readonly number[] {
    return this.ts;
  }

  setTimesteps(numInferenceSteps: number): void {
    const c = this.config;
    checkStepCount(CLASS, numInferenceSteps, c.num_train_timesteps);
    this.numInferenceSteps = numInferenceSteps;
    this.ts = integerTimesteps(c.timestep_spacing, c.num_train_timesteps, numInferenceSteps, c.steps_offset);
  }

  /** DDPM does not scale its input. */
  scaleModelInput(sample: Tensor<'float32'>): Tensor<'float32'> {
    return sample;
  }

  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>, options: DDPMStepOptions = {}): DDPMOutput {
    const k = this.scalars(timestep);
    const predOriginalSample = this.clip(this.predictOriginal(modelOutput, sample, k));
    let prevSample = map2(CLASS, predOriginalSample, sample, (x0, s) => f32(k.predOriginalSampleCoeff * x0) + f32(k.currentSampleCoeff * s));
    if (timestep > 0) {
      const noise = drawNoise(CLASS, modelOutput.shape, options.noise, options.generator, this.ownGenerator.get);
      prevSample = map2(CLASS, prevSample, noise, (p, n) => p + f32(k.std * n));
    }
    return { prevSample, predOriginalSample };
  }

  addNoise(originalSamples: Tensor<'float32'>, noise: Tensor<'float32'>, timesteps: number | readonly number[]): Tensor<'float32'> {
    const alphas = perBatch(CLASS, originalSamples, timesteps).map((t) => this.alphaProd(t));
    return mapBatched(CLASS, originalSamples, noise, alphas, (x, n, a) => f32(sqrtF32(a) * x) + f32(sqrtF32(f32(1 - a)) * n));
  }

  stepCoefficients(timestep: number): StepCoefficients {
    const k = this.scalars(timestep);
    const stepIndex = this.ts.indexOf(timestep);
    if (stepIndex < 0) throw new RangeError(`${CLASS}: timestep ${timestep} is not in the schedule`);
    return {
      stepIndex,
      timestep,
      inputDivisor: 1,
      x0Coef: { ...this.x0Coefficients(k), clip: this.config.clip_sample ? f32(this.config.clip_sample_range) : null },
      prevCoef: { sample: k.currentSampleCoeff, modelOutput: 0, predOriginal: k.predOriginalSampleCoeff, noise: timestep > 0 ? k.std : 0 },
    };
  }

  /** diffusers' `previous_timestep`: the next entry of the schedule (−1 after the last), or t − 1 before `setTimesteps`. */
  previousTimestep(timestep: number): number {
    if (this.numInferenceSteps === null) return timestep - 1;
    const index = this.ts.indexOf(timestep);
    if (index < 0) throw new RangeError(`${CLASS}: timestep ${timestep} is not in the schedule`);
    return index === this.ts.length - 1 ? -1 : this.ts[index + 1]!;
  }

  private alphaProd(t: number): number {
    const a = this.alphasCumprod[t];
    if (a === undefined || !Number.isInteger(t)) throw new RangeError(`${CLASS}: timestep ${t} is not an integer in [0, ${this.alphasCumprod.length})`);
    return a;
  }

  private scalars(timestep: number): DDPMScalars {
    const prevT = this.previousTimestep(timestep);
    const alphaProdT = this.alphaProd(timestep);
    const alphaProdPrev = prevT >= 0 ? this.alphaProd(prevT) : 1;
    const betaProdT = f32(1 - alphaProdT);
    const betaProdPrev = f32(1 - alphaProdPrev);
    const currentAlphaT = f32(alphaProdT / alphaProdPrev);
    const currentBetaT = f32(1 - currentAlphaT);
    return {
      alphaProdT,
      betaProdT,
      predOriginalSampleCoeff: f32(f32(sqrtF32(alphaProdPrev) * currentBetaT) / betaProdT),
      currentSampleCoeff: f32(f32(sqrtF32(currentAlphaT) * betaProdPrev) / betaProdT),
      std: timestep > 0 ? this.noiseStd(alphaProdT, alphaProdPrev) : 0,
    };
  }

  /** diffusers' `_get_variance` for the fixed variance types, turned into the noise's standard deviation. */
  private noiseStd(alphaProdT: number, alphaProdPrev: number): number {
    const currentBetaT = f32(1 - f32(alphaProdT / alphaProdPrev));
    // β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t, clamped so its log is finite.
    const variance = Math.max(f32(f32(f32(1 - alphaProdPrev) / f32(1 - alphaProdT)) * currentBetaT), f32(1e-20));
    switch (this.config.variance_type) {
      case 'fixed_small':
        return sqrtF32(variance);
      case 'fixed_large':
        return sqrtF32(currentBetaT);
      case 'fixed_small_log':
        // exp(0.5 · log β̃): float32 log/exp of glibc, here correctly rounded (README, "Numerics").
        return expF32(f32(0.5 * logF32(variance)));
    }
  }

  private predictOriginal(modelOutput: Tensor<'float32'>, sample: Tensor<'float32'>, k: DDPMScalars): Tensor<'float32'> {
    const sqrtAlpha = sqrtF32(k.alphaProdT);
    const sqrtBeta = sqrtF32(k.betaProdT);
    switch (this.config.prediction_type) {
      case 'epsilon':
        return map2(CLASS, sample, modelOutput, (s, e) => f32(s - f32(sqrtBeta * e)) / sqrtAlpha);
      case 'sample':
        return modelOutput;
      case 'v_prediction':
        return map2(CLASS, sample, modelOutput, (s, v) => f32(sqrtAlpha * s) - f32(sqrtBeta * v));
    }
  }

  private x0Coefficients(k: DDPMScalars): { sample: number; modelOutput: number } {
    const sqrtAlpha = sqrtF32(k.alphaProdT);
    const sqrtBeta = sqrtF32(k.betaProdT);
    switch (this.config.prediction_type) {
      case 'epsilon':
        return { sample: 1 / sqrtAlpha, modelOutput: -sqrtBeta / sqrtAlpha };
      case 'sample':
        return { sample: 0, modelOutput: 1 };
      case 'v_prediction':
        return { sample: sqrtAlpha, modelOutput: -sqrtBeta };
    }
  }

  private clip(x0: Tensor<'float32'>): Tensor<'float32'> {
    if (!this.config.clip_sample) return x0;
    const r = f32(this.config.clip_sample_range);
    return map1(x0, (x) => Math.min(Math.max(x, -r), r));
  }
}
