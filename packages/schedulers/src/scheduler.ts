/**
 * What every scheduler offers (diffusers' SchedulerMixin surface, camel-cased), and the step coefficients a
 * pipeline folds into a graph.
 */
import type { NormalSource, Tensor } from '@sdxs/tensor';

/** The least a `step()` returns: the sample for the next (smaller) timestep. */
export interface SchedulerOutput {
  /** x_{t-1}: the next model input, or the final latents after the last step. */
  readonly prevSample: Tensor<'float32'>;
}

/** Options every `step()` takes. */
export interface StepOptions {
  /**
   * Where a stochastic step draws its noise: `generator.randn(shape)`, bit-identical to `torch.randn(shape,
   * generator=...)`, so a seeded run matches diffusers with `torch.Generator().manual_seed(seed)`.
   * A GeneratorList draws each row of the batch from its own generator, as diffusers does with a list of them.
   * Without one, a scheduler draws from its own generator seeded with PyTorch's default seed.
   */
  readonly generator?: NormalSource;
}

/**
 * One step as scalars, for a pipeline that computes the step inside a graph (one-step SDXS: scale the input,
 * run the U-Net, form x0 / the next sample as constants times tensors):
 *
 *     modelInput = sample / inputDivisor
 *     x0   = clamp(x0Coef.sample · sample + x0Coef.modelOutput · modelOutput, ±x0Coef.clip)   (no clamp if clip is null)
 *     prev = prevCoef.sample · sample + prevCoef.modelOutput · modelOutput + prevCoef.predOriginal · x0 + prevCoef.noise · noise
 *
 * The coefficients are float64 combinations of the float32 scalars diffusers uses. `inputDivisor` and the
 * x0 coefficients reproduce diffusers' float32 ops exactly where its formula has that shape (Euler
 * epsilon: x0 = sample − σ·ε); `prev` folds several ops into one, so it may differ from `step()` in the
 * last float32 bit. `noise` is 0 for deterministic steps.
 */
export interface StepCoefficients {
  /** Index of the step in `timesteps`. */
  readonly stepIndex: number;
  /** The timestep value the model is called with. */
  readonly timestep: number;
  /** `scale_model_input` divides by this (float32); 1 where the scheduler does not scale. */
  readonly inputDivisor: number;
  readonly x0Coef: { readonly sample: number; readonly modelOutput: number; readonly clip: number | null };
  readonly prevCoef: {
    readonly sample: number;
    readonly modelOutput: number;
    readonly predOriginal: number;
    readonly noise: number;
  };
}

/**
 * A diffusers noise scheduler. `Result` and `Options` are the concrete scheduler's typed `step()` output and
 * options.
 */
export interface Scheduler<Result extends SchedulerOutput = SchedulerOutput, Options extends StepOptions = StepOptions> {
  /** diffusers' `_class_name`. */
  readonly className: string;
  /** Model evaluations per step (1 for all schedulers here). */
  readonly order: number;
  /** Standard deviation of the initial noise: pipelines start from `initNoiseSigma · z`, z ~ N(0, I). */
  readonly initNoiseSigma: number;
  /** The schedule, largest first; exact float32 (Euler family) or integer values. */
  readonly timesteps: readonly number[];
  /** null until `setTimesteps`. */
  readonly numInferenceSteps: number | null;
  /** Builds the inference schedule (diffusers' `set_timesteps(n)`); resets the step counter. */
  setTimesteps(numInferenceSteps: number): void;
  /** Scales the denoiser input for timestep `t` (identity for most schedulers). */
  scaleModelInput(sample: Tensor<'float32'>, timestep: number): Tensor<'float32'>;
  /** One denoising step from `timestep` to the next one in the schedule. */
  step(modelOutput: Tensor<'float32'>, timestep: number, sample: Tensor<'float32'>, options?: Options): Result;
  /** Noises clean samples to `timesteps` (one for the batch or one per batch entry), for img2img. */
  addNoise(originalSamples: Tensor<'float32'>, noise: Tensor<'float32'>, timesteps: number | readonly number[]): Tensor<'float32'>;
  /** The step at `timestep` as scalars (see {@link StepCoefficients}); does not change the scheduler's state. */
  stepCoefficients(timestep: number): StepCoefficients;
  /**
   * Where an img2img run starts in `timesteps` (diffusers' `set_begin_index`); only the schedulers that
   * track a step index have it, as in diffusers.
   */
  setBeginIndex?(beginIndex: number): void;
}
