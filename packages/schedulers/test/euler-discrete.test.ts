import { readFileSync } from 'node:fs';
import { Generator } from '@sdxs/tensor';
import { describe, expect, it } from 'vitest';
import { alphasCumprodOf, makeBetas, sigmasOf } from '../src/common/betas.js';
import { f32 } from '../src/common/float32.js';
import { EulerDiscreteScheduler } from '../src/euler-discrete.js';
import { GOLDEN_SCHEDULER_CONFIG, SD_BETAS, expectClose, randn, readGoldenCase, reference } from './helpers.js';

function golden(): EulerDiscreteScheduler {
  return EulerDiscreteScheduler.fromConfig(readFileSync(GOLDEN_SCHEDULER_CONFIG, 'utf8'), GOLDEN_SCHEDULER_CONFIG);
}

/** Training sigmas √((1 − ᾱ)/ᾱ) of SD's schedule, float64 from the float32 ᾱ. */
const TRAIN = (() => {
  const a = alphasCumprodOf(makeBetas({ ...SD_BETAS, num_train_timesteps: 1000, trained_betas: null, rescale_betas_zero_snr: false }));
  return Array.from(a, (x) => Math.sqrt((1 - x) / x));
})();

describe('EulerDiscreteScheduler schedule', () => {
  it('one trailing step: t = 999, σ = init_noise_sigma as in the golden pipeline case', () => {
    const c = readGoldenCase();
    const s = golden();
    s.setTimesteps(1);
    expect(s.timesteps).toEqual(c.timesteps_after_set_timesteps_1);
    expect(s.sigmas).toEqual(c.sigmas_after_set_timesteps_1);
    expect(s.initNoiseSigma).toBe(c.init_noise_sigma);
  });

  it('spacings follow arXiv 2305.08891 Table 2', () => {
    const N = 1000;
    for (const n of [1, 2, 4, 5, 10, 20, 25, 50]) {
      const trailing = new EulerDiscreteScheduler({ timestep_spacing: 'trailing' });
      trailing.setTimesteps(n);
      expect(trailing.timesteps).toEqual(Array.from({ length: n }, (_, i) => Math.round(N - (i * N) / n) - 1));
      const leading = new EulerDiscreteScheduler({ timestep_spacing: 'leading', steps_offset: 1 });
      leading.setTimesteps(n);
      expect(leading.timesteps).toEqual(Array.from({ length: n }, (_, i) => (n - 1 - i) * Math.floor(N / n) + 1));
      const linspace = new EulerDiscreteScheduler({ timestep_spacing: 'linspace' });
      linspace.setTimesteps(n);
      const expected = Array.from({ length: n }, (_, i) => (n === 1 ? 0 : (N - 1) * (1 - i / (n - 1))));
      expectClose(linspace.timesteps, expected, 1e-6);
    }
  });

  it('trailing with n = 16 rounds the half-integer timesteps to even, as np.round does', () => {
    const s = new EulerDiscreteScheduler({ timestep_spacing: 'trailing' });
    s.setTimesteps(16); // arange(1000, 0, -62.5): 937.5 → 938, 812.5 → 812
    expect(s.timesteps.slice(0, 4)).toEqual([999, 937, 874, 811]);
  });

  it('sigmas interpolate the training sigmas linearly in t', () => {
    const s = new EulerDiscreteScheduler({ ...SD_BETAS, timestep_spacing: 'linspace' });
    s.setTimesteps(3); // t = 999, 499.5, 0
    expect(s.timesteps).toEqual([999, 499.5, 0]);
    expectClose(s.sigmas, [TRAIN[999]!, (TRAIN[499]! + TRAIN[500]!) / 2, TRAIN[0]!, 0], 1e-6);
  });

  it('init_noise_sigma is √(σ_max² + 1) for leading spacing', () => {
    const s = new EulerDiscreteScheduler({ ...SD_BETAS, timestep_spacing: 'leading', steps_offset: 1 });
    s.setTimesteps(50);
    expect(s.timesteps[0]).toBe(981);
    expectClose([s.initNoiseSigma], [Math.sqrt(TRAIN[981]! ** 2 + 1)], 1e-6);
  });

  it('Karras sigmas follow (σmax^(1/7) + i/(n−1)·(σmin^(1/7) − σmax^(1/7)))^7; timesteps invert σ(t)', () => {
    const n = 8;
    const s = new EulerDiscreteScheduler({ ...SD_BETAS, timestep_spacing: 'leading', steps_offset: 1, use_karras_sigmas: true });
    s.setTimesteps(n);
    const plain = new EulerDiscreteScheduler({ ...SD_BETAS, timestep_spacing: 'leading', steps_offset: 1 });
    plain.setTimesteps(n);
    const max = plain.sigmas[0]!;
    const min = plain.sigmas[n - 1]!;
    const expected = Array.from({ length: n }, (_, i) => (max ** (1 / 7) + (i / (n - 1)) * (min ** (1 / 7) - max ** (1 / 7))) ** 7);
    expectClose(s.sigmas.slice(0, n), expected, 1e-6);
    expect(s.sigmas[n]).toBe(0);
    expect(s.timesteps[0]).toBe(plain.timesteps[0]);
    // σ(t) interpolated log-linearly between training steps reproduces each Karras sigma.
    s.timesteps.forEach((t, i) => {
      const lo = Math.floor(t);
      const w = t - lo;
      const logSigma = (1 - w) * Math.log(TRAIN[lo]!) + w * Math.log(TRAIN[Math.min(lo + 1, 999)]!);
      expect(Math.abs(Math.exp(logSigma) / expected[i]! - 1)).toBeLessThan(1e-5);
    });
  });

  it('final_sigmas_type "sigma_min" ends at σ_0 instead of 0', () => {
    const s = new EulerDiscreteScheduler({ ...SD_BETAS, final_sigmas_type: 'sigma_min' });
    s.setTimesteps(4);
    expectClose([s.sigmas[4]!], [TRAIN[0]!], 1e-6);
  });

  it('continuous timesteps of v-prediction are ¼·log σ', () => {
    const s = new EulerDiscreteScheduler({ ...SD_BETAS, timestep_type: 'continuous', prediction_type: 'v_prediction', timestep_spacing: 'trailing' });
    s.setTimesteps(2);
    expectClose(s.timesteps, s.sigmas.slice(0, 2).map((x) => 0.25 * Math.log(x)), 1e-6);
  });
});

describe('EulerDiscreteScheduler step', () => {
  const shape = [1, 4, 3, 3];
  const sample = randn(shape, 1);
  const eps = randn(shape, 2);

  it('scales the model input by 1/√(σ² + 1)', () => {
    const s = golden();
    s.setTimesteps(1);
    const sigma = s.sigmas[0]!;
    const scaled = s.scaleModelInput(sample, 999);
    expectClose(scaled.data, reference(sample.size, (i) => sample.data[i]! / Math.sqrt(sigma * sigma + 1)), 1e-6);
  });

  it('one epsilon step returns x0 = x − σ·ε (the SDXS one-step update)', () => {
    const s = golden();
    s.setTimesteps(1);
    const sigma = s.sigmas[0]!;
    const out = s.step(eps, 999, sample);
    expect(Array.from(out.predOriginalSample.data)).toEqual(Array.from(sample.data, (x, i) => f32(x - f32(sigma * eps.data[i]!))));
    expectClose(out.prevSample.data, reference(sample.size, (i) => sample.data[i]! - sigma * eps.data[i]!), 1e-6, 1e-6);
    expect(s.stepIndex).toBe(1);
  });

  it('a two-step run moves along the ODE derivative (x − x0)/σ', () => {
    const s = new EulerDiscreteScheduler({ ...SD_BETAS, timestep_spacing: 'trailing' });
    s.setTimesteps(2);
    const [t0, t1] = s.timesteps as [number, number];
    const [s0, s1] = s.sigmas as [number, number];
    const first = s.step(eps, t0, sample).prevSample;
    expectClose(first.data, reference(sample.size, (i) => sample.data[i]! + eps.data[i]! * (s1 - s0)), 1e-5, 1e-5);
    const second = s.step(eps, t1, first).prevSample;
    expectClose(second.data, reference(sample.size, (i) => first.data[i]! - s1 * eps.data[i]!), 1e-5, 1e-5);
    expect(() => s.step(eps, t1, first)).toThrow(/past the end/);
  });

  it('v-prediction: x0 = x/(σ² + 1) − σ/√(σ² + 1)·v', () => {
    const s = new EulerDiscreteScheduler({ ...SD_BETAS, prediction_type: 'v_prediction', timestep_spacing: 'trailing' });
    s.setTimesteps(1);
    const sigma = s.sigmas[0]!;
    const out = s.step(eps, 999, sample);
    const x0 = reference(sample.size, (i) => sample.data[i]! / (sigma * sigma + 1) - (sigma / Math.sqrt(sigma * sigma + 1)) * eps.data[i]!);
    expectClose(out.predOriginalSample.data, x0, 1e-5, 1e-6);
  });

  it('sample prediction passes the model output through as x0', () => {
    const s = new EulerDiscreteScheduler({ prediction_type: 'sample', timestep_spacing: 'trailing' });
    s.setTimesteps(1);
    expect(s.step(eps, 999, sample).predOriginalSample).toBe(eps);
  });

  it('refuses a timestep that is not in the schedule', () => {
    const s = golden();
    s.setTimesteps(1);
    expect(() => s.step(eps, 998, sample)).toThrow(/timestep 998 is not in the schedule/);
  });

  it('churn adds noise of std √(σ̂² − σ²) from the generator', () => {
    const s = new EulerDiscreteScheduler({ ...SD_BETAS, timestep_spacing: 'trailing' });
    s.setTimesteps(4);
    const t = s.timesteps[0]!;
    const sigma = s.sigmas[0]!;
    const gamma = Math.min(0.5 / 4, Math.SQRT2 - 1);
    const hat = sigma * (gamma + 1);
    const out = s.step(eps, t, sample, { sChurn: 0.5, generator: new Generator(7) });
    const z = new Generator(7).randn(shape);
    const x0 = reference(sample.size, (i) => sample.data[i]! + z.data[i]! * Math.sqrt(hat * hat - sigma * sigma) - hat * eps.data[i]!);
    expectClose(out.predOriginalSample.data, x0, 1e-5, 1e-5);
  });

  it('add_noise is x0 + σ_t·ε, so step with the true ε recovers x0', () => {
    const s = new EulerDiscreteScheduler({ ...SD_BETAS, timestep_spacing: 'leading', steps_offset: 1 });
    s.setTimesteps(10);
    const t = s.timesteps[3]!;
    const noisy = s.addNoise(sample, eps, t);
    expectClose(noisy.data, reference(sample.size, (i) => sample.data[i]! + s.sigmas[3]! * eps.data[i]!), 1e-6, 1e-6);
    expectClose(s.step(eps, t, noisy).predOriginalSample.data, sample.data, 1e-5, 1e-5);
  });
});
