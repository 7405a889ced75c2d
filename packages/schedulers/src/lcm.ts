/**
 * Latent consistency models (Luo et al. 2023) — diffusers' `LCMScheduler`
 * (diffusers/schedulers/scheduling_lcm.py, 0.40), the scheduler of one- and few-step distilled models.
 * Each step maps x_t to the consistency function's output
 *     denoised = c_out(t) · x0 + c_skip(t) · x_t,  c_skip = σ_d² / ((s·t)² + σ_d²), c_out = s·t / √((s·t)² + σ_d²)
 * (σ_d = 0.5, s = `timestep_scaling`), then re-noises it to the next timestep (except after the last step).
 * The schedule is a subset of the `original_inference_steps` skip-step grid the model was distilled on.
 */
import type { Tensor } from '@sdxs/tensor';
import { alphasCumprodOf, makeBetas } from './common/betas.js';
import { boolField, enumField, floatField, intField, parseConfig, readJson, type ConfigOf } from './common/config.js';
import { map1, map2, mapBatched, perBatch } from './common/elementwise.js';
import { betaFields, checkTrainedBetas, spacingField } from './common/fields.js';
import { f32, sqrtF32 } from './common/float32.js';
import { LazyGenerator, drawNoise } from './common/noise.js';
import { npLinspace } from './common/numpy.js';
import { indexForTimestep } from './common/timesteps.js';
import type { Scheduler, SchedulerOutput, StepCoefficients, StepOptions } from './scheduler.js';

const CLASS = 'LCMScheduler';

/** scheduler_config.json fields of LCMScheduler, with diffusers' defaults. */
export const LCM_FIELDS = {
  ...betaFields({ beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear' }),
  original_inference_steps: intField(50, 1),
  clip_sample: boolField(false),
  clip_sample_range: floatField(1.0),
  set_alpha_to_one: boolField(true),
  steps_offset: intField(0),
  prediction_type: enumField(['epsilon', 'sample', 'v_prediction'], 'epsilon'),
  thresholding: boolField(false, { unsupported: true }),
  dynamic_thresholding_ratio: floatField(0.995),
  sample_max_value: floatField(1.0),
  /** Stored by diffusers but not read by LCMScheduler.set_timesteps. */
  timestep_spacing: spacingField('leading'),
  timestep_scaling: floatField(10.0),
};

export type LCMConfig = ConfigOf<typeof LCM_FIELDS>;

export interface LCMStepOptions extends StepOptions {
  /** Noise for the re-noising to the next timestep, instead of drawing it. */
  readonly noise?: Tensor<'float32'>;
}

/** LCM's step output: diffusers names the consistency output `denoised` (it is the final image latents). */
export interface LCMOutput extends SchedulerOutput {
  readonly denoised: Tensor<'float32'>;
}

/** Options of `setTimesteps` beyond the step count (diffusers' keyword arguments). */
export interface LCMSetTimestepsOptions {
  /** Overrides the config's `original_inference_steps` for this schedule. */
  readonly originalInferenceSteps?: number;
  /** img2img strength: only the first `original_inference_steps · strength` grid steps are used. */
  readonly strength?: number;
}

/**
 * `get_scalings_for_boundary_condition_discrete` as the pipeline calls it: `t` is a 0-dim int64 tensor, so
 * `t * timestep_scaling` and everything after it is float32. (A plain Python int would give float64 here.)
 */
export function lcmBoundaryScalings(timestep: number, timestepScaling: number): { cSkip: number; cOut: number } {
  const sigmaDataSq = 0.25; // sigma_data = 0.5
  const scaled = f32(f32(timestep) * f32(timestepScaling));
  const denominator = f32(f32(scaled * scaled) + sigmaDataSq);
  // Python's `float / tensor` is `tensor.reciprocal() * float`.
  const cSkip = f32(f32(1 / denominator) * sigmaDataSq);
  const cOut = f32(scaled / sqrtF32(denominator));
  return { cSkip, cOut };
}

/**
 * diffusers' LCMScheduler.
 *
 * @example
 * const s = new LCMScheduler();
 * s.setTimesteps(4);                 // [999, 759, 499, 259] for original_inference_steps 50
 * const { prevSample, denoised } = s.step(eps, 999, latents, { generator });
 */
export class LCMScheduler implements Scheduler<LCMOutput, LCMStepOptions> {
  static readonly className = CLASS;
  readonly className = CLASS;
  readonly order = 1;
  readonly initNoiseSigma = 1.0;
  readonly config: LCMConfig;
  readonly betas: Float32Array;
  readonly alphasCumprod: Float32Array;
  readonly finalAlphaCumprod: number;
  numInferenceSteps: number | null = null;
  private ts: number[];
  private index: number | null = null;
  private begin: number | null = null;
  private readonly ownGenerator = new LazyGenerator();

  static fromConfig(json: unknown, file: string): LCMScheduler {
    return new LCMScheduler(parseConfig(CLASS, LCM_FIELDS, readJson(json), file, checkTrainedBetas), file);
  }

  constructor(config: Partial<LCMConfig> = {}, file = `<${CLASS} config>`) {
    this.config = parseConfig(CLASS, LCM_FIELDS, config, file, checkTrainedBetas);
    this.betas = makeBetas(this.config);
    this.alphasCumprod = alphasCumprodOf(this.betas);
    this.finalAlphaCumprod = this.config.set_alpha_to_one ? 1 : this.alphasCumprod[0]!;
    this.ts = Array.from({ length: this.config.num_train_timesteps }, (_, i) => this.config.num_train_timesteps - 1 - i);
  }

  get timesteps(): readonly number[] {
    return this.ts;
  }

  get stepIndex(): number | null {
    return this.index;
  }

  setBeginIndex(beginIndex = 0): void {
    this.begin = beginIndex;
  }

  setTimesteps(numInferenceSteps: number, options: LCMSetTimestepsOptions = {}): void {
    const c = this.config;
    const originalSteps = options.originalInferenceSteps ?? c.original_inference_steps;
    const strength = options.strength ?? 1.0;
    const fail = (why: string): never => {
      throw new RangeError(`${CLASS}: ${why}`);
    };
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) fail(`num_inference_steps must be a positive integer, got ${numInferenceSteps}`);
    if (originalSteps > c.num_train_timesteps) fail(`original_inference_steps ${originalSteps} is larger than num_train_timesteps ${c.num_train_timesteps}`);
    if (numInferenceSteps > c.num_train_timesteps) fail(`num_inference_steps ${numInferenceSteps} is larger than num_train_timesteps ${c.num_train_timesteps}`);
    // The distillation grid: every k-th training step, k = N // original_steps, ending at k·m − 1.
    const k = Math.floor(c.num_train_timesteps / originalSteps);
    const gridLength = Math.trunc(originalSteps * strength);
    const grid = Array.from({ length: Math.max(gridLength, 0) }, (_, i) => (i + 1) * k - 1).reverse();
    if (Math.floor(grid.length / numInferenceSteps) < 1) {
      fail(`original_inference_steps × strength (${originalSteps} × ${strength}) is smaller than num_inference_steps ${numInferenceSteps}`);
    }
    if (numInferenceSteps > originalSteps) fail(`num_inference_steps ${numInferenceSteps} is larger than original_inference_steps ${originalSteps}`);
    this.numInferenceSteps = numInferenceSteps;
    this.ts = npLinspace(0, grid.length, numInferenceSteps, false).map((x) => grid[Math.floor(x)]!);
    this.index = null;
    this.begin = null;
  }

  /** LCM does not scale its input. */
  scaleModelInput(sample: Tensor<'float32'>): Tensor<'float32'> {
    return sample;
  }

  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>, options: LCMStepOptions = {}): LCMOutput {
    const n = this.numInferenceSteps;
    if (n === null) throw new Error(`${CLASS}: call setTimesteps before step`);
    this.index ??= this.begin ?? indexForTimestep(CLASS, this.ts, timestep);
    const i = this.index;
    const k = this.scalars(i, timestep);
    const { sqrtAlpha, sqrtBeta } = k;
    let x0: Tensor<'float32'>;
    switch (this.config.prediction_type) {
      case 'epsilon':
        x0 = map2(CLASS, sample, modelOutput, (s, e) => f32(s - f32(sqrtBeta * e)) / sqrtAlpha);
        break;
      case 'sample':
        x0 = modelOutput;
        break;
      case 'v_prediction':
        x0 = map2(CLASS, sample, modelOutput, (s, v) => f32(sqrtAlpha * s) - f32(sqrtBeta * v));
        break;
    }
    if (this.config.clip_sample) {
      const r = f32(this.config.clip_sample_range);
      x0 = map1(x0, (x) => Math.min(Math.max(x, -r), r));
    }
    const denoised = map2(CLASS, x0, sample, (x, s) => f32(k.cOut * x) + f32(k.cSkip * s));
    let prevSample = denoised;
    if (i !== n - 1) {
      const noise = drawNoise(CLASS, modelOutput.shape, options.noise, options.generator, this.ownGenerator.get);
      prevSample = map2(CLASS, denoised, noise, (d, z) => f32(k.sqrtAlphaPrev * d) + f32(k.sqrtBetaPrev * z));
    }
    this.index = i + 1;
    return { prevSample, denoised };
  }

  addNoise(originalSamples: Tensor<'float32'>, noise: Tensor<'float32'>, timesteps: number | readonly number[]): Tensor<'float32'> {
    const alphas = perBatch(CLASS, originalSamples, timesteps).map((t) => this.alphaProd(t));
    return mapBatched(CLASS, originalSamples, noise, alphas, (x, n, a) => f32(sqrtF32(a) * x) + f32(sqrtF32(f32(1 - a)) * n));
  }

  stepCoefficients(timestep: number): StepCoefficients {
    const n = this.numInferenceSteps;
    if (n === null) throw new Error(`${CLASS}: call setTimesteps before stepCoefficients`);
    const i = indexForTimestep(CLASS, this.ts, timestep);
    const k = this.scalars(i, timestep);
    const x0 =
      this.config.prediction_type === 'epsilon'
        ? { sample: 1 / k.sqrtAlpha, modelOutput: -k.sqrtBeta / k.sqrtAlpha }
        : this.config.prediction_type === 'sample'
          ? { sample: 0, modelOutput: 1 }
          : { sample: k.sqrtAlpha, modelOutput: -k.sqrtBeta };
    const last = i === n - 1;
    const renoise = last ? 1 : k.sqrtAlphaPrev;
    return {
      stepIndex: i,
      timestep,
      inputDivisor: 1,
      x0Coef: { ...x0, clip: this.config.clip_sample ? f32(this.config.clip_sample_range) : null },
      prevCoef: { sample: renoise * k.cSkip, modelOutput: 0, predOriginal: renoise * k.cOut, noise: last ? 0 : k.sqrtBetaPrev },
    };
  }

  private alphaProd(t: number): number {
    const a = this.alphasCumprod[t];
    if (a === undefined || !Number.isInteger(t)) throw new RangeError(`${CLASS}: timestep ${t} is not an integer in [0, ${this.alphasCumprod.length})`);
    return a;
  }

  private scalars(index: number, timestep: number) {
    // The next timestep of the schedule; after the last step diffusers reuses t (its ᾱ is then unused).
    const prevT = this.ts[index + 1] ?? timestep;
    const alphaProdT = this.alphaProd(timestep);
    const alphaProdPrev = prevT >= 0 ? this.alphaProd(prevT) : this.finalAlphaCumprod;
    return {
      sqrtAlpha: sqrtF32(alphaProdT),
      sqrtBeta: sqrtF32(f32(1 - alphaProdT)),
      sqrtAlphaPrev: sqrtF32(alphaProdPrev),
      sqrtBetaPrev: sqrtF32(f32(1 - alphaProdPrev)),
      ...lcmBoundaryScalings(timestep, this.config.timestep_scaling),
    };
  }
}
