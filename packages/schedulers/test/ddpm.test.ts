import { Generator, Tensor } from '@sdxs/tensor';
import { describe, expect, it } from 'vitest';
import { DDPMScheduler } from '../src/ddpm.js';
import { SD_BETAS, expectClose, randn, reference, tensor } from './helpers.js';

describe('DDPMScheduler', () => {
  const shape = [1, 2, 4, 4];
  const clean = randn(shape, 21);
  const eps = randn(shape, 22);

  it('timesteps: leading, linspace (rounded) and trailing', () => {
    const leading = new DDPMScheduler({ steps_offset: 1 });
    leading.setTimesteps(4);
    expect(leading.timesteps).toEqual([751, 501, 251, 1]);
    const linspace = new DDPMScheduler({ timestep_spacing: 'linspace' });
    linspace.setTimesteps(4);
    expect(linspace.timesteps).toEqual([999, 666, 333, 0]);
    linspace.setTimesteps(3);
    expect(linspace.timesteps).toEqual([999, 500, 0]); // 499.5 rounds to even
    const trailing = new DDPMScheduler({ timestep_spacing: 'trailing' });
    trailing.setTimesteps(4);
    expect(trailing.timesteps).toEqual([999, 749, 499, 249]);
    expect(() => trailing.setTimesteps(1001)).toThrow(/larger than num_train_timesteps/);
  });

  it('step: posterior mean of eq. (7) plus √β̃_t · z', () => {
    const s = new DDPMScheduler({ ...SD_BETAS, clip_sample: false });
    s.setTimesteps(10);
    const [t, prev] = [s.timesteps[2]!, s.timesteps[3]!];
    expect(s.previousTimestep(t)).toBe(prev);
    const a = s.alphasCumprod[t]!;
    const ap = s.alphasCumprod[prev]!;
    const alphaT = a / ap;
    const betaT = 1 - alphaT;
    const sample = randn(shape, 23);
    const out = s.step(eps, t, sample, { generator: new Generator(1) });
    const z = new Generator(1).randn(shape);
    const pred = reference(sample.size, (i) => (sample.data[i]! - Math.sqrt(1 - a) * eps.data[i]!) / Math.sqrt(a));
    expectClose(out.predOriginalSample.data, pred, 1e-5, 1e-5);
    const std = Math.sqrt(((1 - ap) / (1 - a)) * betaT);
    const mean = (i: number): number =>
      ((Math.sqrt(ap) * betaT) / (1 - a)) * pred[i]! + ((Math.sqrt(alphaT) * (1 - ap)) / (1 - a)) * sample.data[i]!;
    expectClose(out.prevSample.data, reference(sample.size, (i) => mean(i) + std * z.data[i]!), 1e-5, 1e-5);
  });

  it('adds no noise at t = 0 and returns x0 there', () => {
    const s = new DDPMScheduler({ ...SD_BETAS, timestep_spacing: 'linspace', clip_sample: false });
    s.setTimesteps(2);
    expect(s.timesteps).toEqual([999, 0]);
    const sample = randn(shape, 24);
    const out = s.step(eps, 0, sample);
    expectClose(out.prevSample.data, out.predOriginalSample.data, 1e-6, 1e-6);
  });

  it('fixed_large uses β_t as the variance', () => {
    const s = new DDPMScheduler({ ...SD_BETAS, clip_sample: false, variance_type: 'fixed_large' });
    const sample = randn(shape, 25);
    const mean = s.step(eps, 500, sample, { noise: Tensor.zeros('float32', shape) }).prevSample;
    const noisy = s.step(eps, 500, sample, { generator: new Generator(2) }).prevSample;
    const z = new Generator(2).randn(shape);
    const beta = s.betas[500]!;
    expectClose(noisy.data, reference(sample.size, (i) => mean.data[i]! + Math.sqrt(beta) * z.data[i]!), 1e-5, 1e-5);
  });

  it('clips x0 to ±clip_sample_range', () => {
    const s = new DDPMScheduler({ clip_sample: true, clip_sample_range: 0.5 });
    const out = s.step(eps, 10, randn(shape, 26), { generator: new Generator(0) });
    expect(Math.max(...out.predOriginalSample.data)).toBeLessThanOrEqual(0.5);
    expect(Math.min(...out.predOriginalSample.data)).toBeGreaterThanOrEqual(-0.5);
  });

  it('add_noise is √ᾱ·x0 + √(1 − ᾱ)·ε and v-prediction inverts it', () => {
    const s = new DDPMScheduler({ ...SD_BETAS, prediction_type: 'v_prediction', clip_sample: false });
    const t = 700;
    const a = s.alphasCumprod[t]!;
    const noisy = s.addNoise(clean, eps, t);
    expectClose(noisy.data, reference(clean.size, (i) => Math.sqrt(a) * clean.data[i]! + Math.sqrt(1 - a) * eps.data[i]!), 1e-6, 1e-6);
    // v = √ᾱ·ε − √(1 − ᾱ)·x0
    const v = tensor(Array.from(reference(clean.size, (i) => Math.sqrt(a) * eps.data[i]! - Math.sqrt(1 - a) * clean.data[i]!)), shape);
    const out = s.step(v, t, noisy, { generator: new Generator(0) });
    expectClose(out.predOriginalSample.data, clean.data, 1e-5, 1e-5);
  });
});
