/**
 * The DPM-Solver++ updates of diffusers' `DPMSolverMultistepScheduler` (`dpm_solver_first_order_update`,
 * `multistep_dpm_solver_second_order_update`, `multistep_dpm_solver_third_order_update`), for the
 * "dpmsolver++" (ODE) and "sde-dpmsolver++" algorithms, each tensor op rounded to float32 in diffusers' order.
 *
 * With λ = log(α) − log(σ), h = λ_t − λ_s0 and data predictions m0 (newest), m1, m2:
 *     1st order:  x_t = (σ_t/σ_s0)·x − α_t(e^{−h} − 1)·m0
 *     2nd order:  − ½·α_t(e^{−h} − 1)·D1 (midpoint) or + α_t((e^{−h} − 1)/h + 1)·D1 (Heun), D1 = (m0 − m1)/r0
 * The SDE variant scales x by e^{−h}, uses (1 − e^{−2h}) and adds σ_t√(1 − e^{−2h})·noise.
 */
import { Tensor } from '@sdxs/tensor';
import { expF32, f32, logF32, sqrtF32 } from './common/float32.js';

export type AlgorithmType = 'dpmsolver++' | 'sde-dpmsolver++';
export type SolverType = 'midpoint' | 'heun';

/** σ of the target step (t) and of the current and earlier steps (s0, s1, s2). */
export interface StepSigmas {
  readonly t: number;
  readonly s0: number;
  readonly s1: number;
  readonly s2: number;
}

/** diffusers' `_sigma_to_alpha_sigma_t`: α = 1/√(σ² + 1), σ_t = σ·α (float32). */
export function alphaSigma(sigma: number): { alpha: number; sigma: number } {
  // Python's `1 / tensor` is `tensor.reciprocal() * 1`.
  const alpha = f32(1 / sqrtF32(f32(f32(sigma * sigma) + 1)));
  return { alpha, sigma: f32(sigma * alpha) };
}

/** λ = log α − log σ (float32 logs; +∞ at σ = 0, which makes the last step return x0). */
function lambdaOf(p: { alpha: number; sigma: number }): number {
  return f32(logF32(p.alpha) - logF32(p.sigma));
}

function elementwise(inputs: readonly Tensor<'float32'>[], fn: (i: number) => number): Tensor<'float32'> {
  const first = inputs[0]!;
  for (const t of inputs) {
    if (t.size !== first.size) throw new RangeError('DPMSolverMultistepScheduler: sample and model outputs differ in size');
  }
  const out = new Float32Array(first.size);
  for (let i = 0; i < out.length; i++) out[i] = fn(i);
  return new Tensor('float32', first.shape, out);
}

/** Scalars of the first-order update: x_t = sample·x + x0·m0 + noise·n. */
export function firstOrderCoefficients(algorithm: AlgorithmType, sigmaS: number, sigmaT: number): { sample: number; x0: number; noise: number } {
  const t = alphaSigma(sigmaT);
  const s = alphaSigma(sigmaS);
  const h = f32(lambdaOf(t) - lambdaOf(s));
  if (algorithm === 'dpmsolver++') {
    return { sample: f32(t.sigma / s.sigma), x0: -f32(t.alpha * f32(expF32(-h) - 1)), noise: 0 };
  }
  const e2 = expF32(f32(-2 * h));
  return {
    sample: f32(f32(t.sigma / s.sigma) * expF32(-h)),
    x0: f32(t.alpha * f32(1 - e2)),
    noise: f32(t.sigma * sqrtF32(f32(1 - e2))),
  };
}

/** DPM-Solver++ first order (= DDIM in data prediction). */
export function firstOrderUpdate(
  algorithm: AlgorithmType,
  sigmas: StepSigmas,
  m0: Tensor<'float32'>,
  sample: Tensor<'float32'>,
  noise: Tensor<'float32'> | null,
): Tensor<'float32'> {
  const k = firstOrderCoefficients(algorithm, sigmas.s0, sigmas.t);
  const x = sample.data;
  const m = m0.data;
  if (algorithm === 'dpmsolver++') {
    const b = -k.x0; // diffusers subtracts α_t(e^{−h} − 1)·m0
    return elementwise([sample, m0], (i) => f32(k.sample * x[i]!) - f32(b * m[i]!));
  }
  const n = requireNoise(noise, sample).data;
  return elementwise([sample, m0], (i) => f32(f32(k.sample * x[i]!) + f32(k.x0 * m[i]!)) + f32(k.noise * n[i]!));
}

/** Multistep second order from m0 (this step) and m1 (the previous one). */
export function secondOrderUpdate(
  algorithm: AlgorithmType,
  solver: SolverType,
  sigmas: StepSigmas,
  [m0, m1]: readonly Tensor<'float32'>[],
  sample: Tensor<'float32'>,
  noise: Tensor<'float32'> | null,
): Tensor<'float32'> {
  if (m0 === undefined || m1 === undefined) throw new Error('second-order update needs two model outputs');
  const t = alphaSigma(sigmas.t);
  const s0 = alphaSigma(sigmas.s0);
  const s1 = alphaSigma(sigmas.s1);
  const lt = lambdaOf(t);
  const l0 = lambdaOf(s0);
  const h = f32(lt - l0);
  const r0 = f32(f32(l0 - lambdaOf(s1)) / h);
  const invR0 = f32(1 / r0);
  const x = sample.data;
  const a = m0.data;
  const b = m1.data;
  const d1 = (i: number): number => f32(invR0 * f32(a[i]! - b[i]!));
  if (algorithm === 'dpmsolver++') {
    const cs = f32(t.sigma / s0.sigma);
    const c0 = f32(t.alpha * f32(expF32(-h) - 1));
    if (solver === 'midpoint') {
      const c1 = f32(0.5 * c0);
      return elementwise([sample, m0, m1], (i) => f32(f32(cs * x[i]!) - f32(c0 * a[i]!)) - f32(c1 * d1(i)));
    }
    const c1 = f32(t.alpha * f32(f32(f32(expF32(-h) - 1) / h) + 1));
    return elementwise([sample, m0, m1], (i) => f32(f32(cs * x[i]!) - f32(c0 * a[i]!)) + f32(c1 * d1(i)));
  }
  const n = requireNoise(noise, sample).data;
  const e2 = expF32(f32(-2 * h));
  const cs = f32(f32(t.sigma / s0.sigma) * expF32(-h));
  const c0 = f32(t.alpha * f32(1 - e2));
  const c1 = solver === 'midpoint' ? f32(0.5 * c0) : f32(t.alpha * f32(f32(f32(1 - e2) / f32(-2 * h)) + 1));
  const cn = f32(t.sigma * sqrtF32(f32(1 - e2)));
  return elementwise([sample, m0, m1], (i) => f32(f32(f32(cs * x[i]!) + f32(c0 * a[i]!)) + f32(c1 * d1(i))) + f32(cn * n[i]!));
}

/** Multistep third order from m0, m1, m2 (newest first). */
export function thirdOrderUpdate(
  algorithm: AlgorithmType,
  sigmas: StepSigmas,
  [m0, m1, m2]: readonly Tensor<'float32'>[],
  sample: Tensor<'float32'>,
  noise: Tensor<'float32'> | null,
): Tensor<'float32'> {
  if (m0 === undefined || m1 === undefined || m2 === undefined) throw new Error('third-order update needs three model outputs');
  const t = alphaSigma(sigmas.t);
  const s0 = alphaSigma(sigmas.s0);
  const lt = lambdaOf(t);
  const l0 = lambdaOf(s0);
  const l1 = lambdaOf(alphaSigma(sigmas.s1));
  const l2 = lambdaOf(alphaSigma(sigmas.s2));
  const h = f32(lt - l0);
  const r0 = f32(f32(l0 - l1) / h);
  const r1 = f32(f32(l1 - l2) / h);
  const invR0 = f32(1 / r0);
  const invR1 = f32(1 / r1);
  const rSum = f32(r0 + r1);
  const w = f32(r0 / rSum);
  const invRSum = f32(1 / rSum);
  const x = sample.data;
  const a = m0.data;
  const b = m1.data;
  const c = m2.data;
  // D1 = D1_0 + r0/(r0 + r1)·(D1_0 − D1_1), D2 = (D1_0 − D1_1)/(r0 + r1).
  const terms = (i: number): { d1: number; d2: number } => {
    const d10 = f32(invR0 * f32(a[i]! - b[i]!));
    const d11 = f32(invR1 * f32(b[i]! - c[i]!));
    const diff = f32(d10 - d11);
    return { d1: f32(d10 + f32(w * diff)), d2: f32(invRSum * diff) };
  };
  if (algorithm === 'dpmsolver++') {
    const em1 = f32(expF32(-h) - 1);
    const cs = f32(t.sigma / s0.sigma);
    const c0 = f32(t.alpha * em1);
    const c1 = f32(t.alpha * f32(f32(em1 / h) + 1));
    const c2 = f32(t.alpha * f32(f32(f32(em1 + h) / f32(h * h)) - 0.5));
    return elementwise([sample, m0, m1, m2], (i) => {
      const { d1, d2 } = terms(i);
      return f32(f32(f32(cs * x[i]!) - f32(c0 * a[i]!)) + f32(c1 * d1)) - f32(c2 * d2);
    });
  }
  const n = requireNoise(noise, sample).data;
  const e2 = expF32(f32(-2 * h));
  const om = f32(1 - e2);
  const twoH = f32(2 * h);
  const cs = f32(f32(t.sigma / s0.sigma) * expF32(-h));
  const c0 = f32(t.alpha * om);
  const c1 = f32(t.alpha * f32(f32(om / f32(-2 * h)) + 1));
  const c2 = f32(t.alpha * f32(f32(f32(om - twoH) / f32(twoH * twoH)) - 0.5));
  const cn = f32(t.sigma * sqrtF32(om));
  return elementwise([sample, m0, m1, m2], (i) => {
    const { d1, d2 } = terms(i);
    return f32(f32(f32(f32(cs * x[i]!) + f32(c0 * a[i]!)) + f32(c1 * d1)) + f32(c2 * d2)) + f32(cn * n[i]!);
  });
}

function requireNoise(noise: Tensor<'float32'> | null, sample: Tensor<'float32'>): Tensor<'float32'> {
  if (noise === null || noise.size !== sample.size) throw new Error('sde-dpmsolver++ needs noise shaped like the sample');
  return noise;
}
