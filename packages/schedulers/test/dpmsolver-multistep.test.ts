import { Generator, type Tensor } from '@sdxs/tensor';
import { describe, expect, it } from 'vitest';
import { alphasCumprodOf, makeBetas } from '../src/common/betas.js';
import { DPMSolverMultistepScheduler, type DPMSolverMultistepConfig } from '../src/dpmsolver-multistep.js';
import { SD_BETAS, expectClose, randn, reference } from './helpers.js';

const shape = [1, 4, 2, 2];

/**
 * DPM-Solver++ in float64 from the paper (arXiv 2211.01095, Algorithms 1–2 and the 3rd-order multistep),
 * written with λ = −log σ (σ the Karras-style sigma, α_t = 1/√(σ² + 1), σ_t = σ·α_t) and ε-prediction.
 */
function referenceRun(sigmas: readonly number[], x: Float64Array, eps: readonly Float64Array[], order: number, heun = false): Float64Array[] {
  const n = eps.length;
  const alpha = (s: number): number => 1 / Math.sqrt(s * s + 1);
  const lambda = (s: number): number => -Math.log(s);
  const x0s: Float64Array[] = [];
  const outs: Float64Array[] = [];
  let current = x;
  for (let i = 0; i < n; i++) {
    const s0 = sigmas[i]!;
    const st = sigmas[i + 1]!;
    const x0 = current.map((v, k) => (v - s0 * alpha(s0) * eps[i]![k]!) / alpha(s0));
    x0s.push(x0);
    const last = i === n - 1;
    const useOrder = last ? 1 : Math.min(order, x0s.length, i === n - 2 && n < 15 ? 2 : order);
    const at = alpha(st);
    const ratio = (st * at) / (s0 * alpha(s0));
    const h = st === 0 ? Infinity : lambda(st) - lambda(s0);
    const phi = Math.exp(-h) - 1; // e^{−h} − 1
    const m0 = x0s[i]!;
    let next: Float64Array;
    if (useOrder === 1) {
      next = current.map((v, k) => ratio * v - at * phi * m0[k]!);
    } else if (useOrder === 2) {
      const m1 = x0s[i - 1]!;
      const r0 = (lambda(s0) - lambda(sigmas[i - 1]!)) / h;
      next = current.map((v, k) => {
        const d1 = (m0[k]! - m1[k]!) / r0;
        const correction = heun ? at * (phi / h + 1) * d1 : -0.5 * at * phi * d1;
        return ratio * v - at * phi * m0[k]! + correction;
      });
    } else {
      const m1 = x0s[i - 1]!;
      const m2 = x0s[i - 2]!;
      const r0 = (lambda(s0) - lambda(sigmas[i - 1]!)) / h;
      const r1 = (lambda(sigmas[i - 1]!) - lambda(sigmas[i - 2]!)) / h;
      next = current.map((v, k) => {
        const d10 = (m0[k]! - m1[k]!) / r0;
        const d11 = (m1[k]! - m2[k]!) / r1;
        const d1 = d10 + (r0 / (r0 + r1)) * (d10 - d11);
        const d2 = (d10 - d11) / (r0 + r1);
        return ratio * v - at * phi * m0[k]! + at * (phi / h + 1) * d1 - at * ((phi + h) / (h * h) - 0.5) * d2;
      });
    }
    outs.push(next);
    current = next;
  }
  return outs;
}

function run(config: Partial<DPMSolverMultistepConfig>, n: number): { s: DPMSolverMultistepScheduler; outs: Tensor<'float32'>[]; eps: Tensor<'float32'>[]; x: Tensor<'float32'> } {
  const s = new DPMSolverMultistepScheduler({ ...SD_BETAS, ...config });
  s.setTimesteps(n);
  const x = randn(shape, 50);
  const eps = s.timesteps.map((_, i) => randn(shape, 60 + i));
  const outs: Tensor<'float32'>[] = [];
  let current = x;
  s.timesteps.forEach((t, i) => {
    current = s.step(eps[i]!, t, current).prevSample;
    outs.push(current);
  });
  return { s, outs, eps, x };
}

describe('DPMSolverMultistepScheduler', () => {
  it('timesteps: linspace/leading/trailing over n + 1 points with the last dropped', () => {
    const make = (c: Partial<DPMSolverMultistepConfig>): readonly number[] => {
      const s = new DPMSolverMultistepScheduler(c);
      s.setTimesteps(4);
      return s.timesteps;
    };
    expect(make({ timestep_spacing: 'linspace' })).toEqual([999, 749, 500, 250]); // 499.5 → 500
    expect(make({ timestep_spacing: 'leading', steps_offset: 1 })).toEqual([801, 601, 401, 201]);
    expect(make({ timestep_spacing: 'trailing' })).toEqual([999, 749, 499, 249]);
  });

  it('2M (midpoint) matches the float64 algorithm of the paper over a whole run', () => {
    const { s, outs, eps, x } = run({ solver_order: 2 }, 8);
    const ref = referenceRun(s.sigmas, Float64Array.from(x.data), eps.map((e) => Float64Array.from(e.data)), 2);
    outs.forEach((o, i) => expectClose(o.data, ref[i]!, 2e-5, 2e-5));
  });

  it('Heun correction and third order match the paper over a 20-step run', () => {
    const heun = run({ solver_order: 2, solver_type: 'heun' }, 6);
    const refHeun = referenceRun(heun.s.sigmas, Float64Array.from(heun.x.data), heun.eps.map((e) => Float64Array.from(e.data)), 2, true);
    heun.outs.forEach((o, i) => expectClose(o.data, refHeun[i]!, 2e-5, 2e-5));
    const third = run({ solver_order: 3 }, 20);
    const refThird = referenceRun(third.s.sigmas, Float64Array.from(third.x.data), third.eps.map((e) => Float64Array.from(e.data)), 3);
    third.outs.forEach((o, i) => expectClose(o.data, refThird[i]!, 1e-4, 1e-4));
  });

  it('with the true ε every order stays on the forward process and ends at x0', () => {
    for (const order of [1, 2, 3]) {
      const s = new DPMSolverMultistepScheduler({ ...SD_BETAS, solver_order: order, use_karras_sigmas: true });
      s.setTimesteps(20);
      const clean = randn(shape, 70);
      const eps = randn(shape, 71);
      let x = s.addNoise(clean, eps, s.timesteps[0]!);
      for (const [i, t] of s.timesteps.entries()) {
        x = s.step(eps, t, x).prevSample;
        const sigma = s.sigmas[i + 1]!;
        const a = 1 / Math.sqrt(sigma * sigma + 1);
        expectClose(x.data, reference(x.size, (k) => a * clean.data[k]! + sigma * a * eps.data[k]!), 1e-4, 1e-4);
      }
    }
  });

  it('Karras sigmas span the training schedule; timesteps are rounded σ⁻¹', () => {
    const s = new DPMSolverMultistepScheduler({ ...SD_BETAS, use_karras_sigmas: true });
    s.setTimesteps(10);
    const a = alphasCumprodOf(makeBetas({ ...SD_BETAS, num_train_timesteps: 1000, trained_betas: null, rescale_betas_zero_snr: false }));
    const train = Array.from(a, (x) => Math.sqrt((1 - x) / x));
    expectClose([s.sigmas[0]!, s.sigmas[9]!, s.sigmas[10]!], [train[999]!, train[0]!, 0], 1e-6);
    expect(s.timesteps[0]).toBe(999);
    expect(s.timesteps.at(-1)).toBe(0);
    for (const t of s.timesteps) expect(Number.isInteger(t)).toBe(true);
  });

  it('sde-dpmsolver++ first order: (σ_t/σ_s)e^{−h}·x + α_t(1 − e^{−2h})·x0 + σ_t√(1 − e^{−2h})·z', () => {
    const s = new DPMSolverMultistepScheduler({ ...SD_BETAS, algorithm_type: 'sde-dpmsolver++' });
    s.setTimesteps(5);
    const x = randn(shape, 80);
    const eps = randn(shape, 81);
    const out = s.step(eps, s.timesteps[0]!, x, { generator: new Generator(12) }).prevSample;
    const z = new Generator(12).randn(shape);
    const [s0, st] = s.sigmas as [number, number];
    const alpha = (v: number): number => 1 / Math.sqrt(v * v + 1);
    const h = Math.log(s0) - Math.log(st);
    const expected = reference(x.size, (k) => {
      const x0 = (x.data[k]! - s0 * alpha(s0) * eps.data[k]!) / alpha(s0);
      return ((st * alpha(st)) / (s0 * alpha(s0))) * Math.exp(-h) * x.data[k]! + alpha(st) * (1 - Math.exp(-2 * h)) * x0 + st * alpha(st) * Math.sqrt(1 - Math.exp(-2 * h)) * z.data[k]!;
    });
    expectClose(out.data, expected, 2e-5, 2e-5);
  });

  it('lambda_min_clipped drops the training steps whose λ = −log σ is below it', () => {
    const clip = -5.1;
    const config = { beta_schedule: 'squaredcos_cap_v2', lambda_min_clipped: clip, timestep_spacing: 'linspace' } as const;
    const s = new DPMSolverMultistepScheduler(config);
    s.setTimesteps(4);
    const a = s.alphasCumprod;
    const clipped = Array.from(a).filter((x) => -Math.log(Math.sqrt((1 - x) / x)) < clip).length;
    expect(clipped).toBeGreaterThan(0);
    const last = 1000 - clipped;
    expect(s.timesteps[0]).toBe(Math.round(last - 1));
  });

  it('refuses to step before setTimesteps', () => {
    const s = new DPMSolverMultistepScheduler();
    expect(() => s.step(randn(shape, 1), 999, randn(shape, 2))).toThrow(/setTimesteps/);
  });
});
