import { Generator } from '@sdxs/tensor';
import { describe, expect, it } from 'vitest';
import { LCMScheduler, lcmBoundaryScalings } from '../src/lcm.js';
import { expectClose, randn, reference } from './helpers.js';

describe('LCMScheduler', () => {
  const shape = [1, 4, 2, 2];
  const clean = randn(shape, 41);
  const eps = randn(shape, 42);

  it('schedules a subset of the skip-step grid t_j = (j + 1)·N/m − 1', () => {
    const s = new LCMScheduler();
    const grid = Array.from({ length: 50 }, (_, j) => (j + 1) * 20 - 1).reverse();
    for (const n of [1, 2, 4, 8, 50]) {
      s.setTimesteps(n);
      expect(s.timesteps).toEqual(Array.from({ length: n }, (_, i) => grid[Math.floor((i * 50) / n)]));
    }
    expect(() => s.setTimesteps(51)).toThrow(/original_inference_steps/);
    s.setTimesteps(2, { originalInferenceSteps: 4 }); // grid 999, 749, 499, 249
    expect(s.timesteps).toEqual([999, 499]);
    s.setTimesteps(2, { strength: 0.5 }); // the first 25 grid points, from t = 499 down
    expect(s.timesteps).toEqual([499, 259]);
  });

  it('boundary condition: c_skip + c_out² = 1, c_skip(0) = 1, c_out(0) = 0', () => {
    for (const t of [0, 1, 19, 259, 999]) {
      const { cSkip, cOut } = lcmBoundaryScalings(t, 10);
      expect(Math.abs(cSkip + cOut * cOut - 1)).toBeLessThan(1e-6);
      expectClose([cSkip], [0.25 / ((10 * t) ** 2 + 0.25)], 1e-6);
    }
    expect(lcmBoundaryScalings(0, 10)).toEqual({ cSkip: 1, cOut: 0 });
  });

  it('one step returns the consistency output c_out·x0 + c_skip·x and draws no noise', () => {
    const s = new LCMScheduler();
    s.setTimesteps(1);
    const t = s.timesteps[0]!;
    const a = s.alphasCumprod[t]!;
    const sample = randn(shape, 43);
    const generator = new Generator(8);
    const out = s.step(eps, t, sample, { generator });
    const { cSkip, cOut } = lcmBoundaryScalings(t, 10);
    const expected = reference(sample.size, (i) => cOut * ((sample.data[i]! - Math.sqrt(1 - a) * eps.data[i]!) / Math.sqrt(a)) + cSkip * sample.data[i]!);
    expectClose(out.denoised.data, expected, 1e-5, 1e-5);
    expect(out.prevSample).toBe(out.denoised);
    expect(Array.from(generator.getState())).toEqual(Array.from(new Generator(8).getState()));
  });

  it('earlier steps re-noise the consistency output to the next timestep', () => {
    const s = new LCMScheduler();
    s.setTimesteps(4);
    const [t, next] = [s.timesteps[0]!, s.timesteps[1]!];
    const noisy = s.addNoise(clean, eps, t);
    const out = s.step(eps, t, noisy, { generator: new Generator(4) });
    const z = new Generator(4).randn(shape);
    const { cSkip, cOut } = lcmBoundaryScalings(t, 10);
    const denoised = reference(clean.size, (i) => cOut * clean.data[i]! + cSkip * noisy.data[i]!);
    expectClose(out.denoised.data, denoised, 1e-4, 1e-4);
    const ap = s.alphasCumprod[next]!;
    expectClose(out.prevSample.data, reference(clean.size, (i) => Math.sqrt(ap) * denoised[i]! + Math.sqrt(1 - ap) * z.data[i]!), 1e-4, 1e-4);
    expect(s.stepIndex).toBe(1);
  });

  it('needs setTimesteps and a scheduled timestep', () => {
    const s = new LCMScheduler();
    expect(() => s.step(eps, 999, clean)).toThrow(/setTimesteps/);
    s.setTimesteps(4);
    expect(() => s.step(eps, 998, clean)).toThrow(/not in the schedule/);
  });
});
