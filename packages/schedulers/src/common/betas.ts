/**
 * The training noise schedule every diffusers scheduler builds in `__init__`: betas (float32 tensors),
 * optional zero-terminal-SNR rescaling, and `alphas_cumprod`, with PyTorch's CPU float32 rounding.
 * Follows `betas_for_alpha_bar` and `rescale_zero_terminal_snr` of diffusers/schedulers/scheduling_ddpm.py.
 */
import { f32, sqrtF32, torchCumprodF32, torchLinspaceF32 } from './float32.js';

/** `beta_schedule` values sdxs builds. diffusers' DDPMScheduler also has "sigmoid" and "laplace". */
export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';

/** The config fields that define the betas (names as in scheduler_config.json). */
export interface BetaConfig {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: BetaSchedule;
  trained_betas: readonly number[] | null;
  rescale_betas_zero_snr: boolean;
}

/**
 * diffusers' `betas_for_alpha_bar(n)` with the cosine ("squaredcos_cap_v2", GLIDE) transform: float64 Python
 * math, then `torch.tensor(..., dtype=float32)`. `Math.cos` may differ from glibc's `cos` in the last float64
 * bit, which the float32 rounding hides except in rare ties.
 */
export function betasForAlphaBarCosine(numDiffusionTimesteps: number, maxBeta = 0.999): Float32Array {
  const alphaBar = (t: number): number => {
    const c = Math.cos((((t + 0.008) / 1.008) * Math.PI) / 2);
    return c * c; // Python's `** 2` is pow(c, 2), exactly c * c
  };
  const out = new Float32Array(numDiffusionTimesteps);
  for (let i = 0; i < numDiffusionTimesteps; i++) {
    const t1 = i / numDiffusionTimesteps;
    const t2 = (i + 1) / numDiffusionTimesteps;
    out[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  }
  return out;
}

/**
 * diffusers' `rescale_zero_terminal_snr(betas)` (arXiv 2305.08891, Algorithm 1) in float32 tensor ops:
 * shift `sqrt(alphas_cumprod)` so the last is 0, rescale so the first is unchanged, undo the cumprod.
 */
export function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const n = betas.length;
  const alphas = betas.map((b) => f32(1 - b));
  const sqrtBar = torchCumprodF32(alphas).map(sqrtF32);
  const first = sqrtBar[0]!;
  const last = sqrtBar[n - 1]!;
  const scale = f32(first / f32(first - last));
  const bar = sqrtBar.map((s) => {
    const shifted = f32(f32(s - last) * scale);
    return f32(shifted * shifted);
  });
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const alpha = i === 0 ? bar[0]! : f32(bar[i]! / bar[i - 1]!);
    out[i] = f32(1 - alpha);
  }
  return out;
}

/**
 * The betas of a scheduler config, as `__init__` computes them (float32).
 *
 * @example
 * makeBetas({ num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear',
 *   trained_betas: null, rescale_betas_zero_snr: false });
 */
export function makeBetas(config: BetaConfig): Float32Array {
  let betas: Float32Array;
  if (config.trained_betas !== null) {
    betas = Float32Array.from(config.trained_betas);
  } else if (config.beta_schedule === 'linear') {
    betas = torchLinspaceF32(config.beta_start, config.beta_end, config.num_train_timesteps);
  } else if (config.beta_schedule === 'scaled_linear') {
    // beta_start ** 0.5 is a float64 pow in Python; sqrt is the same correctly rounded value.
    const roots = torchLinspaceF32(Math.sqrt(config.beta_start), Math.sqrt(config.beta_end), config.num_train_timesteps);
    betas = roots.map((r) => f32(r * r));
  } else {
    betas = betasForAlphaBarCosine(config.num_train_timesteps);
  }
  return config.rescale_betas_zero_snr ? rescaleZeroTerminalSnr(betas) : betas;
}

/** `alphas_cumprod = cumprod(1 - betas)` in float32 (float64 running product, as PyTorch's CPU kernel keeps it). */
export function alphasCumprodOf(betas: Float32Array): Float32Array {
  return torchCumprodF32(betas.map((b) => f32(1 - b)));
}

/** `((1 - alphas_cumprod) / alphas_cumprod) ** 0.5` in float32: the Karras-style sigma of each training step. */
export function sigmasOf(alphasCumprod: Float32Array): Float32Array {
  return alphasCumprod.map((a) => sqrtF32(f32(f32(1 - a) / a)));
}
