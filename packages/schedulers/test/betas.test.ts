import { describe, expect, it } from 'vitest';
import { alphasCumprodOf, betasForAlphaBarCosine, makeBetas, rescaleZeroTerminalSnr, sigmasOf } from '../src/common/betas.js';
import { f32 } from '../src/common/float32.js';
import { readGoldenCase } from './helpers.js';

const BASE = { num_train_timesteps: 1000, trained_betas: null, rescale_betas_zero_snr: false } as const;
const SCALED = { ...BASE, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear' } as const;

/** ᾱ_t in float64 straight from the definition: ∏_{i<=t} (1 − β_i). */
function alphaBar64(beta: (i: number) => number, t: number): number {
  let p = 1;
  for (let i = 0; i <= t; i++) p *= 1 - beta(i);
  return p;
}

describe('betas and alphas_cumprod', () => {
  it('scaled_linear: ᾱ agrees with the float64 definition to float32 precision', () => {
    const a = alphasCumprodOf(makeBetas(SCALED));
    const r0 = Math.sqrt(0.00085);
    const r1 = Math.sqrt(0.012);
    const beta = (i: number): number => (r0 + ((r1 - r0) * i) / 999) ** 2;
    for (const t of [0, 1, 10, 250, 499, 500, 750, 998, 999]) {
      expect(Math.abs(a[t]! / alphaBar64(beta, t) - 1)).toBeLessThan(2e-6);
    }
  });

  it('linear: ends are beta_start and beta_end in float32', () => {
    const b = makeBetas({ ...BASE, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' });
    expect(b[0]).toBe(f32(0.0001));
    expect(b[999]).toBe(f32(0.02));
    expect(Math.abs(b[500]! - (0.0001 + (0.0199 * 500) / 999))).toBeLessThan(1e-9);
  });

  it('σ_999 of SD’s schedule is the golden init_noise_sigma, which a float32 running product misses', () => {
    const golden = readGoldenCase().init_noise_sigma;
    const sigmas = sigmasOf(alphasCumprodOf(makeBetas(SCALED)));
    expect(sigmas[999]).toBe(golden);
    // PyTorch's CPU cumprod accumulates in double; a float32 accumulator lands elsewhere.
    const alphas = makeBetas(SCALED).map((b) => f32(1 - b));
    let p = 1;
    for (const x of alphas) p = f32(p * x);
    expect(f32(Math.sqrt(f32(f32(1 - p) / p)))).not.toBe(golden);
  });

  it('squaredcos_cap_v2: the products telescope to ᾱ(t) / ᾱ(0) of the cosine schedule', () => {
    const alphaBar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    const b = betasForAlphaBarCosine(1000);
    expect(Math.max(...b)).toBeLessThanOrEqual(f32(0.999));
    expect(b[999]).toBe(f32(0.999)); // the cap
    const a = alphasCumprodOf(b);
    for (const t of [0, 100, 500, 900]) {
      expect(Math.abs(a[t]! / (alphaBar((t + 1) / 1000) / alphaBar(0)) - 1)).toBeLessThan(5e-5);
    }
  });

  it('trained_betas are used as given (rounded to float32)', () => {
    const b = makeBetas({ ...SCALED, num_train_timesteps: 3, trained_betas: [0.1, 0.2, 0.3] });
    expect(Array.from(b)).toEqual([f32(0.1), f32(0.2), f32(0.3)]);
  });

  it('rescale_betas_zero_snr: terminal ᾱ is 0, the first is kept', () => {
    const betas = makeBetas(SCALED);
    const rescaled = rescaleZeroTerminalSnr(betas);
    expect(rescaled[999]).toBe(1);
    const a = alphasCumprodOf(rescaled);
    expect(a[999]).toBe(0);
    expect(Math.abs(a[0]! - alphasCumprodOf(betas)[0]!)).toBeLessThan(1e-6);
    // √ᾱ is an affine map of the original √ᾱ: check the shape at the middle.
    const orig = alphasCumprodOf(betas).map(Math.sqrt);
    const first = orig[0]!;
    const last = orig[999]!;
    const expected = ((orig[500]! - last) * first) / (first - last);
    expect(Math.abs(Math.sqrt(a[500]!) - expected)).toBeLessThan(1e-5);
    expect(makeBetas({ ...SCALED, rescale_betas_zero_snr: true })[999]).toBe(1);
  });
});
