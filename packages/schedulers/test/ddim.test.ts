import { Generator } from '@sdxs/tensor';
import { describe, expect, it } from 'vitest';
import { DDIMScheduler } from '../src/ddim.js';
import { SD_BETAS, expectClose, randn, reference, tensor } from './helpers.js';

/** SD 1.x's DDIM config. */
const SD_DDIM = { ...SD_BETAS, clip_sample: false, set_alpha_to_one: false, steps_offset: 1 } as const;

describe('DDIMScheduler', () => {
  const shape = [1, 4, 3, 3];
  const clean = randn(shape, 31);
  const eps = randn(shape, 32);

  it('SD 1.x timesteps: leading with steps_offset 1', () => {
    const s = new DDIMScheduler(SD_DDIM);
    s.setTimesteps(50);
    expect(s.timesteps[0]).toBe(981);
    expect(s.timesteps.at(-1)).toBe(1);
    expect(s.timesteps).toHaveLength(50);
  });

  it('η = 0 with the true ε moves exactly along the forward process: x_t → x_{t−Δ} (eq. 12)', () => {
    const s = new DDIMScheduler(SD_DDIM);
    s.setTimesteps(10);
    let x = s.addNoise(clean, eps, s.timesteps[0]!);
    for (const [k, t] of s.timesteps.entries()) {
      const out = s.step(eps, t, x);
      expectClose(out.predOriginalSample.data, clean.data, 2e-4, 2e-4);
      const next = s.timesteps[k + 1];
      const expected = next === undefined ? null : s.addNoise(clean, eps, next);
      if (expected !== null) expectClose(out.prevSample.data, expected.data, 2e-4, 2e-4);
      x = out.prevSample;
    }
    // After t = 1, ᾱ_prev is ᾱ_0 (set_alpha_to_one false): x = √ᾱ_0·x0 + √(1 − ᾱ_0)·ε.
    const a0 = s.alphasCumprod[0]!;
    expectClose(x.data, reference(x.size, (i) => Math.sqrt(a0) * clean.data[i]! + Math.sqrt(1 - a0) * eps.data[i]!), 2e-4, 2e-4);
  });

  it('set_alpha_to_one makes the last step return x0', () => {
    const s = new DDIMScheduler({ ...SD_DDIM, set_alpha_to_one: true });
    s.setTimesteps(1);
    expect(s.timesteps).toEqual([1]);
    const sample = randn(shape, 33);
    const out = s.step(eps, 1, sample);
    expect(Array.from(out.prevSample.data)).toEqual(Array.from(out.predOriginalSample.data));
  });

  it('η > 0 adds η·√variance of eq. (16) times the noise and shrinks the ε direction to match', () => {
    const s = new DDIMScheduler(SD_DDIM);
    s.setTimesteps(5);
    const [t, prev] = [s.timesteps[1]!, s.timesteps[2]!];
    const a = s.alphasCumprod[t]!;
    const ap = s.alphasCumprod[prev]!;
    const sample = randn(shape, 34);
    const eta = 0.7;
    const std = eta * Math.sqrt(((1 - ap) / (1 - a)) * (1 - a / ap));
    const out = s.step(eps, t, sample, { eta, generator: new Generator(3) });
    const z = new Generator(3).randn(shape);
    const expected = reference(sample.size, (i) => {
      const x0 = (sample.data[i]! - Math.sqrt(1 - a) * eps.data[i]!) / Math.sqrt(a);
      return Math.sqrt(ap) * x0 + Math.sqrt(1 - ap - std * std) * eps.data[i]! + std * z.data[i]!;
    });
    expectClose(out.prevSample.data, expected, 1e-5, 1e-5);
    const withNoise = s.step(eps, t, sample, { eta, noise: new Generator(3).randn(shape) });
    expect(Array.from(withNoise.prevSample.data)).toEqual(Array.from(out.prevSample.data));
  });

  it('sample and v predictions recover x0 and ε of the forward process', () => {
    const t = 601;
    const v = new DDIMScheduler({ ...SD_DDIM, prediction_type: 'v_prediction' });
    v.setTimesteps(10);
    const a = v.alphasCumprod[t]!;
    const noisy = v.addNoise(clean, eps, t);
    // v = √ᾱ·ε − √(1 − ᾱ)·x0 (Salimans & Ho 2022)
    const velocity = tensor(Array.from(reference(clean.size, (i) => Math.sqrt(a) * eps.data[i]! - Math.sqrt(1 - a) * clean.data[i]!)), shape);
    const fromV = v.step(velocity, t, noisy);
    expectClose(fromV.predOriginalSample.data, clean.data, 1e-4, 1e-4);
    expectClose(fromV.prevSample.data, v.addNoise(clean, eps, t - 100).data, 1e-4, 1e-4);
    const x = new DDIMScheduler({ ...SD_DDIM, prediction_type: 'sample' });
    x.setTimesteps(10);
    const fromSample = x.step(clean, t, noisy);
    expectClose(fromSample.prevSample.data, x.addNoise(clean, eps, t - 100).data, 1e-4, 1e-4);
  });

  it('clips x0 by default and needs setTimesteps before step', () => {
    const s = new DDIMScheduler();
    expect(() => s.step(eps, 10, clean)).toThrow(/setTimesteps/);
    s.setTimesteps(10);
    const out = s.step(eps, 900, randn(shape, 35));
    expect(Math.max(...out.predOriginalSample.data.map(Math.abs))).toBeLessThanOrEqual(1);
  });
});
