/**
 * DPM-Solver++ (Lu et al. 2022, arXiv 2211.01095), multistep — diffusers' `DPMSolverMultistepScheduler`
 * (diffusers/schedulers/scheduling_dpmsolver_multistep.py, 0.40). Data-prediction form: the model output
 * is turned into x0, and x_t is advanced in λ = log(α/σ) with orders 1–3 (midpoint or Heun corrections),
 * reusing the x0 of earlier steps. "sde-dpmsolver++" adds noise (Algorithm "DPM-Solver++(2M) SDE").
 * The update formulas live in dpmsolver-updates.ts.
 */
import type { Tensor } from '@sdxs/tensor';
import { alphasCumprodOf, makeBetas, sigmasOf } from './common/betas.js';
import { boolField, enumField, floatField, intField, nullOnlyField, parseConfig, readJson, type ConfigOf } from './common/config.js';
import { map2, mapBatched, perBatch } from './common/elementwise.js';
import { betaFields, checkTrainedBetas, spacingField } from './common/fields.js';
import { f32, logF32, sqrtF32 } from './common/float32.js';
import { LazyGenerator, drawNoise } from './common/noise.js';
import { npArange, npInterpIndex, npLinspace, roundHalfEven } from './common/numpy.js';
import { exponentialSigmas, karrasSigmas, sigmaToT } from './common/sigmas.js';
import {
  alphaSigma,
  firstOrderUpdate,
  firstOrderCoefficients,
  secondOrderUpdate,
  thirdOrderUpdate,
  type AlgorithmType,
} from './dpmsolver-updates.js';
import type { Scheduler, SchedulerOutput, StepCoefficients, StepOptions } from './scheduler.js';

const CLASS = 'DPMSolverMultistepScheduler';

/** scheduler_config.json fields of DPMSolverMultistepScheduler, with diffusers' defaults. */
export const DPMSOLVER_MULTISTEP_FIELDS = {
  ...betaFields({ beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' }),
  solver_order: intField(2, 1),
  prediction_type: enumField(['epsilon', 'sample', 'v_prediction'], 'epsilon', { unsupported: ['flow_prediction'] }),
  thresholding: boolField(false, { unsupported: true }),
  dynamic_thresholding_ratio: floatField(0.995),
  sample_max_value: floatField(1.0),
  // diffusers rewrites "deis" to "dpmsolver++" on load; the noise-prediction forms are deprecated there.
  algorithm_type: enumField(['dpmsolver++', 'sde-dpmsolver++'], 'dpmsolver++', {
    aliases: { deis: 'dpmsolver++' },
    unsupported: ['dpmsolver', 'sde-dpmsolver'],
  }),
  // diffusers rewrites the UniPC/DEIS solver names to "midpoint" on load.
  solver_type: enumField(['midpoint', 'heun'], 'midpoint', { aliases: { logrho: 'midpoint', bh1: 'midpoint', bh2: 'midpoint' } }),
  lower_order_final: boolField(true),
  euler_at_final: boolField(false),
  use_karras_sigmas: boolField(false, { nullable: true }),
  use_exponential_sigmas: boolField(false, { nullable: true }),
  use_beta_sigmas: boolField(false, { nullable: true, unsupported: true }),
  use_lu_lambdas: boolField(false, { nullable: true, unsupported: true }),
  use_flow_sigmas: boolField(false, { nullable: true, unsupported: true }),
  flow_shift: floatField(1.0),
  final_sigmas_type: enumField(['zero', 'sigma_min'], 'zero'),
  lambda_min_clipped: floatField(-Infinity),
  // Only diffusers' default, null: "learned"/"learned_range" drop extra model output channels.
  variance_type: nullOnlyField(['learned', 'learned_range']),
  timestep_spacing: spacingField('linspace'),
  steps_offset: intField(0),
  use_dynamic_shifting: boolField(false, { unsupported: true }),
  time_shift_type: enumField(['exponential'], 'exponential'),
};

export type DPMSolverMultistepConfig = ConfigOf<typeof DPMSOLVER_MULTISTEP_FIELDS>;

export interface DPMSolverMultistepStepOptions extends StepOptions {
  /** diffusers' `variance_noise` for "sde-dpmsolver++", instead of drawing it. */
  readonly noise?: Tensor<'float32'>;
}

function check(config: DPMSolverMultistepConfig): string[] {
  const problems = checkTrainedBetas(config);
  if (config.use_karras_sigmas && config.use_exponential_sigmas) {
    problems.push('fields "use_karras_sigmas" and "use_exponential_sigmas": only one can be true');
  }
  return problems;
}

/**
 * diffusers' DPMSolverMultistepScheduler ("DPM++ 2M", with `use_karras_sigmas` "DPM++ 2M Karras").
 *
 * @example
 * const s = new DPMSolverMultistepScheduler({ beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012 });
 * s.setTimesteps(20);
 * for (const t of s.timesteps) latents = s.step(unet(latents, t), t, latents).prevSample;
 */
export class DPMSolverMultistepScheduler implements Scheduler<SchedulerOutput, DPMSolverMultistepStepOptions> {
  static readonly className = CLASS;
  readonly className = CLASS;
  readonly order = 1;
  readonly initNoiseSigma = 1.0;
  readonly config: DPMSolverMultistepConfig;
  readonly betas: Float32Array;
  readonly alphasCumprod: Float32Array;
  numInferenceSteps: number | null = null;
  private ts: number[];
  private sig: number[];
  private index: number | null = null;
  private begin: number | null = null;
  /** x0 predictions of the last `solver_order` steps, oldest first. */
  private modelOutputs: (Tensor<'float32'> | null)[];
  private lowerOrderNums = 0;
  private readonly ownGenerator = new LazyGenerator();

  static fromConfig(json: unknown, file: string): DPMSolverMultistepScheduler {
    return new DPMSolverMultistepScheduler(parseConfig(CLASS, DPMSOLVER_MULTISTEP_FIELDS, readJson(json), file, check), file);
  }

  constructor(config: Partial<DPMSolverMultistepConfig> = {}, file = `<${CLASS} config>`) {
    this.config = parseConfig(CLASS, DPMSOLVER_MULTISTEP_FIELDS, config, file, check);
    this.betas = makeBetas(this.config);
    this.alphasCumprod = alphasCumprodOf(this.betas);
    if (this.config.rescale_betas_zero_snr) this.alphasCumprod[this.alphasCumprod.length - 1] = 2 ** -24;
    this.sig = Array.from(sigmasOf(this.alphasCumprod));
    this.ts = Array.from({ length: this.config.num_train_timesteps }, (_, i) => this.config.num_train_timesteps - 1 - i);
    this.modelOutputs = new Array<Tensor<'float32'> | null>(this.config.solver_order).fill(null);
  }

  get timesteps(): readonly number[] {
    return this.ts;
  }

  get sigmas(): readonly number[] {
    return this.sig;
  }

  get stepIndex(): number | null {
    return this.index;
  }

  setBeginIndex(beginIndex = 0): void {
    this.begin = beginIndex;
  }

  setTimesteps(numInferenceSteps: number): void {
    const c = this.config;
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
      throw new RangeError(`${CLASS}: num_inference_steps must be a positive integer, got ${numInferenceSteps}`);
    }
    const n = numInferenceSteps;
    const lastTimestep = c.num_train_timesteps - this.clippedIndex();
    let timesteps: number[];
    if (c.timestep_spacing === 'linspace') {
      timesteps = npLinspace(0, lastTimestep - 1, n + 1).map(roundHalfEven).reverse().slice(0, -1);
    } else if (c.timestep_spacing === 'leading') {
      const ratio = Math.floor(lastTimestep / (n + 1));
      timesteps = Array.from({ length: n }, (_, i) => (n - i) * ratio + c.steps_offset);
    } else {
      timesteps = npArange(lastTimestep, 0, -c.num_train_timesteps / n).map((t) => roundHalfEven(t) - 1);
    }
    const trainSigmas = sigmasOf(this.alphasCumprod);
    let sigmas: number[];
    if (c.use_karras_sigmas || c.use_exponential_sigmas) {
      // diffusers passes the flipped training sigmas: the range is the whole training schedule.
      const sigmaMin = trainSigmas[0]!;
      const sigmaMax = trainSigmas[trainSigmas.length - 1]!;
      sigmas = c.use_karras_sigmas ? karrasSigmas(sigmaMin, sigmaMax, n) : exponentialSigmas(sigmaMin, sigmaMax, n);
      const logSigmas = trainSigmas.map(logF32);
      const fractional = sigmas.map((s) => sigmaToT(s, logSigmas));
      // Karras rounds (except for the cosine schedule); `.to(torch.int64)` then truncates toward zero.
      const rounded = c.use_karras_sigmas && c.beta_schedule !== 'squaredcos_cap_v2' ? fractional.map(roundHalfEven) : fractional;
      timesteps = rounded.map(Math.trunc);
    } else {
      sigmas = timesteps.map((t) => npInterpIndex(t, trainSigmas));
    }
    const last = c.final_sigmas_type === 'sigma_min' ? trainSigmas[0]! : 0;
    this.sig = [...sigmas, last].map(f32);
    this.ts = timesteps;
    this.numInferenceSteps = timesteps.length;
    this.modelOutputs = new Array<Tensor<'float32'> | null>(c.solver_order).fill(null);
    this.lowerOrderNums = 0;
    this.index = null;
    this.begin = null;
  }

  /** DPM-Solver does not scale its input. */
  scaleModelInput(sample: Tensor<'float32'>): Tensor<'float32'> {
    return sample;
  }

  step(
    modelOutput: Tensor<'float32'>,
    timestep: number,
    sample: Tensor<'float32'>,
    options: DPMSolverMultistepStepOptions = {},
  ): SchedulerOutput {
    if (this.numInferenceSteps === null) throw new Error(`${CLASS}: call setTimesteps before step`);
    this.index ??= this.begin ?? this.indexFor(timestep);
    const i = this.index;
    const c = this.config;
    const last = i === this.ts.length - 1;
    const lowerOrderFinal = last && (c.euler_at_final || (c.lower_order_final && this.ts.length < 15) || c.final_sigmas_type === 'zero');
    const lowerOrderSecond = i === this.ts.length - 2 && c.lower_order_final && this.ts.length < 15;

    const x0 = this.convertModelOutput(modelOutput, sample, i);
    this.modelOutputs = [...this.modelOutputs.slice(1), x0];
    const noise =
      c.algorithm_type === 'sde-dpmsolver++'
        ? drawNoise(CLASS, modelOutput.shape, options.noise, options.generator, this.ownGenerator.get)
        : null;
    const algorithm: AlgorithmType = c.algorithm_type;
    const sigmas = { t: this.sigmaAt(i + 1), s0: this.sigmaAt(i), s1: this.sig[i - 1] ?? NaN, s2: this.sig[i - 2] ?? NaN };
    let prevSample: Tensor<'float32'>;
    if (c.solver_order === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) {
      prevSample = firstOrderUpdate(algorithm, sigmas, x0, sample, noise);
    } else if (c.solver_order === 2 || this.lowerOrderNums < 2 || lowerOrderSecond) {
      prevSample = secondOrderUpdate(algorithm, c.solver_type, sigmas, this.history(2), sample, noise);
    } else {
      prevSample = thirdOrderUpdate(algorithm, sigmas, this.history(3), sample, noise);
    }
    if (this.lowerOrderNums < c.solver_order) this.lowerOrderNums += 1;
    this.index = i + 1;
    return { prevSample };
  }

  addNoise(originalSamples: Tensor<'float32'>, noise: Tensor<'float32'>, timesteps: number | readonly number[]): Tensor<'float32'> {
    const pairs = perBatch(CLASS, originalSamples, timesteps).map((t) =>
      alphaSigma(this.sigmaAt(this.begin === null ? this.indexFor(t) : (this.index ?? this.begin))),
    );
    return mapBatched(CLASS, originalSamples, noise, pairs, (x, n, p) => f32(p.alpha * x) + f32(p.sigma * n));
  }

  /**
   * The step at `timestep` taken as a first-order (DPM-Solver++ 1 = DDIM) update — which every run's first
   * step is, and so the whole of a one-step schedule.
   */
  stepCoefficients(timestep: number): StepCoefficients {
    const i = this.indexFor(timestep);
    const s0 = this.sigmaAt(i);
    const { alpha, sigma } = alphaSigma(s0);
    const c = this.config;
    const x0Coef =
      c.prediction_type === 'epsilon'
        ? { sample: 1 / alpha, modelOutput: -sigma / alpha, clip: null }
        : c.prediction_type === 'sample'
          ? { sample: 0, modelOutput: 1, clip: null }
          : { sample: alpha, modelOutput: -sigma, clip: null };
    const k = firstOrderCoefficients(c.algorithm_type, s0, this.sigmaAt(i + 1));
    return {
      stepIndex: i,
      timestep: this.ts[i]!,
      inputDivisor: 1,
      x0Coef,
      prevCoef: { sample: k.sample, modelOutput: 0, predOriginal: k.x0, noise: k.noise },
    };
  }

  /** Index of `timestep`: the second match if it occurs twice, the last step if it does not occur. */
  private indexFor(timestep: number): number {
    const first = this.ts.indexOf(timestep);
    if (first < 0) return this.ts.length - 1;
    const second = this.ts.indexOf(timestep, first + 1);
    return second >= 0 ? second : first;
  }

  /** torch.searchsorted(flip(λ), lambda_min_clipped): how many training steps have λ below the clip. */
  private clippedIndex(): number {
    const clip = this.config.lambda_min_clipped;
    if (clip === -Infinity) return 0;
    // λ_t = log(α_t) − log(σ_t) in float32 (PyTorch's vectorised log: within an ulp of this).
    const lambdas = Array.from(this.alphasCumprod, (a) => f32(logF32(sqrtF32(a)) - logF32(sqrtF32(f32(1 - a))))).reverse();
    let lo = 0;
    let hi = lambdas.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (lambdas[mid]! < clip) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private convertModelOutput(modelOutput: Tensor<'float32'>, sample: Tensor<'float32'>, i: number): Tensor<'float32'> {
    const { alpha, sigma } = alphaSigma(this.sigmaAt(i));
    switch (this.config.prediction_type) {
      case 'epsilon':
        return map2(CLASS, sample, modelOutput, (s, e) => f32(s - f32(sigma * e)) / alpha);
      case 'sample':
        return modelOutput;
      case 'v_prediction':
        return map2(CLASS, sample, modelOutput, (s, v) => f32(alpha * s) - f32(sigma * v));
    }
  }

  /** The last `count` x0 predictions, newest first (m0, m1, m2 of diffusers). */
  private history(count: number): Tensor<'float32'>[] {
    const recent = this.modelOutputs.slice(-count).reverse();
    return recent.map((m) => {
      if (m === null) throw new Error(`${CLASS}: a multistep update ran without ${count} previous model outputs`);
      return m;
    });
  }

  private sigmaAt(i: number): number {
    const sigma = this.sig[i];
    if (sigma === undefined) throw new RangeError(`${CLASS}: step ${i} is past the end of the schedule (${this.ts.length} steps)`);
    return sigma;
  }
}
