/**
 * Denoising diffusion implicit models (Song et al. 2020, eq. 12) — diffusers' `DDIMScheduler`
 * (diffusers/schedulers/scheduling_ddim.py, 0.40). Deterministic for η = 0; η = 1 is DDPM-like.
 * The previous timestep is always t − N // n (diffusers does this for every spacing).
 */
import type { Tensor } from '@sdxs/tensor';
import { alphasCumprodOf, makeBetas } from './common/betas.js';
import { boolField, enumField, floatField, intField, parseConfig, readJson, type ConfigOf } from './common/config.js';
import { map1, map2, mapBatched, perBatch } from './common/elementwise.js';
import { betaFields, checkTrainedBetas, spacingField } from './common/fields.js';
import { f32, sqrtF32 } from './common/float32.js';
import { LazyGenerator, drawNoise } from './common/noise.js';
import { checkStepCount, integerTimesteps } from './common/timesteps.js';
import type { Scheduler, SchedulerOutput, StepCoefficients, StepOptions } from './scheduler.js';

const CLASS = 'DDIMScheduler';

/** scheduler_config.json fields of DDIMScheduler, with diffusers' defaults. */
export const DDIM_FIELDS = {
  ...betaFields({ beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' }),
  clip_sample: boolField(true),
  set_alpha_to_one: boolField(true),
  steps_offset: intField(0),
  prediction_type: enumField(['epsilon', 'sample', 'v_prediction'], 'epsilon'),
  // Dynamic thresholding (Imagen) needs torch.quantile per image; not built.
  thresholding: boolField(false, { unsupported: true }),
  dynamic_thresholding_ratio: floatField(0.995),
  clip_sample_range: floatField(1.0),
  sample_max_value: floatField(1.0),
  timestep_spacing: spacingField('leading'),
};

export type DDIMConfig = ConfigOf<typeof DDIM_FIELDS>;

export interface DDIMStepOptions extends StepOptions {
  /** η of the paper: 0 deterministic (default), 1 DDPM-like noise. */
  readonly eta?: number;
  /** Re-derive ε from the clipped x0 (diffusers' `use_clipped_model_output`). */
  readonly useClippedModelOutput?: boolean;
  /** diffusers' `variance_noise`: noise to use instead of drawing it (only used when η > 0). */
  readonly noise?: Tensor<'float32'>;
}

export interface DDIMOutput extends SchedulerOutput {
  readonly predOriginalSample: Tensor<'float32'>;
}

interface DDIMScalars {
  sqrtAlpha: number;
  sqrtBeta: number;
  sqrtAlphaPrev: number;
  /** √(1 − ᾱ_prev − σ_t²): the weight of ε ("direction pointing to x_t"). */
  direction: number;
  /** σ_t = η · √variance. */
  std: number;
}

/**
 * diffusers' DDIMScheduler.
 *
 * @example
 * const s = new DDIMScheduler({ beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012, clip_sample: false, set_alpha_to_one: false, steps_offset: 1 });
 * s.setTimesteps(50); // [981, 961, …, 1]
 */
export class DDIMScheduler implements Scheduler<DDIMOutput, DDIMStepOptions> {
  static readonly className = CLASS;
  readonly className = CLASS;
  readonly order = 1;
  readonly initNoiseSigma = 1.0;
  readonly config: DDIMConfig;
  readonly betas: Float32Array;
  readonly alphasCumprod: Float32Array;
  /** ᾱ used past the end of the schedule: 1, or ᾱ_0 when `set_alpha_to_one` is false. */
  readonly finalAlphaCumprod: number;
  numInferenceSteps: number | null = null;
  private ts: number[];
  private readonly ownGenerator = new LazyGenerator();

  static fromConfig(json: unknown, file: string): DDIMScheduler {
    return new DDIMScheduler(parseConfig(CLASS, DDIM_FIELDS, readJson(json), file, checkTrainedBetas), file);
  }

  constructor(config: Partial<DDIMConfig> = {}, file = `<${CLASS} config>`) {
    this.config = parseConfig(CLASS, DDIM_FIELDS, config, file, checkTrainedBetas);
    this.betas = makeBetas(this.config);
    this.alphasCumprod = alphasCumprodOf(this.betas);
    this.finalAlphaCumprod = this.config.set_alpha_to_one ? 1 : this.alphasCumprod[0]!;
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

  /** DDIM does not scale its input. */
  scaleModelInput(sample: Tensor<'float32'>): Tensor<'float32'> {
    return sample;
  }

  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>, options: DDIMStepOptions = {}): DDIMOutput {
    const { eta = 0, useClippedModelOutput = false } = options;
    const k = this.scalars(timestep, eta);
    const { sqrtAlpha, sqrtBeta } = k;
    let x0: Tensor<'float32'>;
    let eps: Tensor<'float32'>;
    switch (this.config.prediction_type) {
      case 'epsilon':
        x0 = map2(CLASS, sample, modelOutput, (s, e) => f32(s - f32(sqrtBeta * e)) / sqrtAlpha);
        eps = modelOutput;
        break;
      case 'sample':
        x0 = modelOutput;
        eps = map2(CLASS, sample, modelOutput, (s, m) => f32(s - f32(sqrtAlpha * m)) / sqrtBeta);
        break;
      case 'v_prediction':
        x0 = map2(CLASS, sample, modelOutput, (s, v) => f32(sqrtAlpha * s) - f32(sqrtBeta * v));
        eps = map2(CLASS, sample, modelOutput, (s, v) => f32(sqrtAlpha * v) + f32(sqrtBeta * s));
        break;
    }
    if (this.config.clip_sample) {
      const r = f32(this.config.clip_sample_range);
      x0 = map1(x0, (x) => Math.min(Math.max(x, -r), r));
    }
    if (useClippedModelOutput) eps = map2(CLASS, sample, x0, (s, x) => f32(s - f32(sqrtAlpha * x)) / sqrtBeta);
    let prevSample = map2(CLASS, x0, eps, (x, e) => f32(k.sqrtAlphaPrev * x) + f32(k.direction * e));
    if (eta > 0) {
      const noise = drawNoise(CLASS, modelOutput.shape, options.noise, options.generator, this.ownGenerator.get);
      prevSample = map2(CLASS, prevSample, noise, (p, n) => p + f32(k.std * n));
    }
    return { prevSample, predOriginalSample: x0 };
  }

  addNoise(originalSamples: Tensor<'float32'>, noise: Tensor<'float32'>, timesteps: number | readonly number[]): Tensor<'float32'> {
    const alphas = perBatch(CLASS, originalSamples, timesteps).map((t) => this.alphaProd(t));
    return mapBatched(CLASS, originalSamples, noise, alphas, (x, n, a) => f32(sqrtF32(a) * x) + f32(sqrtF32(f32(1 - a)) * n));
  }

  /** The step at `timestep` as scalars, for η = `eta` (default 0) without `useClippedModelOutput`. */
  stepCoefficients(timestep: number, eta = 0): StepCoefficients {
    const stepIndex = this.ts.indexOf(timestep);
    if (stepIndex < 0) throw new RangeError(`${CLASS}: timestep ${timestep} is not in the schedule`);
    const k = this.scalars(timestep, eta);
    const { sqrtAlpha: a, sqrtBeta: b } = k;
    // x0 and ε as linear forms in (sample, modelOutput).
    const [x0, eps] =
      this.config.prediction_type === 'epsilon'
        ? [{ sample: 1 / a, modelOutput: -b / a }, { sample: 0, modelOutput: 1 }]
        : this.config.prediction_type === 'sample'
          ? [{ sample: 0, modelOutput: 1 }, { sample: 1 / b, modelOutput: -a / b }]
          : [{ sample: a, modelOutput: -b }, { sample: b, modelOutput: a }];
    return {
      stepIndex,
      timestep,
      inputDivisor: 1,
      x0Coef: { ...x0, clip: this.config.clip_sample ? f32(this.config.clip_sample_range) : null },
      prevCoef: {
        sample: k.direction * eps.sample,
        modelOutput: k.direction * eps.modelOutput,
        predOriginal: k.sqrtAlphaPrev,
        noise: eta > 0 ? k.std : 0,
      },
    };
  }

  private alphaProd(t: number): number {
    const a = this.alphasCumprod[t];
    if (a === undefined || !Number.isInteger(t)) throw new RangeError(`${CLASS}: timestep ${t} is not an integer in [0, ${this.alphasCumprod.length})`);
    return a;
  }

  private scalars(timestep: number, eta: number): DDIMScalars {
    const n = this.numInferenceSteps;
    if (n === null) throw new Error(`${CLASS}: call setTimesteps before step`);
    const prevT = timestep - Math.floor(this.config.num_train_timesteps / n);
    const alphaProdT = this.alphaProd(timestep);
    const alphaProdPrev = prevT >= 0 ? this.alphaProd(prevT) : this.finalAlphaCumprod;
    const betaProdT = f32(1 - alphaProdT);
    const betaProdPrev = f32(1 - alphaProdPrev);
    // σ_t² / η² of eq. (16): (1 − ᾱ_prev)/(1 − ᾱ_t) · (1 − ᾱ_t/ᾱ_prev).
    const variance = f32(f32(betaProdPrev / betaProdT) * f32(1 - f32(alphaProdT / alphaProdPrev)));
    const std = f32(f32(eta) * sqrtF32(variance));
    return {
      sqrtAlpha: sqrtF32(alphaProdT),
      sqrtBeta: sqrtF32(betaProdT),
      sqrtAlphaPrev: sqrtF32(alphaProdPrev),
      direction: sqrtF32(f32(betaProdPrev - f32(std * std))),
      std,
    };
  }
}
