import { Generator, Tensor } from '@sdxs/tensor';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyStepCoefficients } from '../src/coefficients.js';
import { DDIMScheduler } from '../src/ddim.js';
import { DDPMScheduler } from '../src/ddpm.js';
import { DPMSolverMultistepScheduler } from '../src/dpmsolver-multistep.js';
import { EulerAncestralDiscreteScheduler } from '../src/euler-ancestral-discrete.js';
import { EulerDiscreteScheduler } from '../src/euler-discrete.js';
import { LCMScheduler } from '../src/lcm.js';
import { schedulerFromConfig, type AnyScheduler } from '../src/registry.js';
import { GOLDEN_SCHEDULER_CONFIG, SD_BETAS, expectClose, randn } from './helpers.js';

const shape = [1, 4, 4, 4];

/** Schedulers in their common configurations, each with a 3-step schedule. */
function schedulers(): [string, AnyScheduler][] {
  const list: [string, AnyScheduler][] = [
    ['Euler epsilon', new EulerDiscreteScheduler({ ...SD_BETAS, timestep_spacing: 'trailing' })],
    ['Euler v', new EulerDiscreteScheduler({ ...SD_BETAS, timestep_spacing: 'leading', prediction_type: 'v_prediction' })],
    ['Euler ancestral', new EulerAncestralDiscreteScheduler({ ...SD_BETAS, timestep_spacing: 'trailing' })],
    ['DDPM clipped', new DDPMScheduler({ ...SD_BETAS, clip_sample_range: 0.8 })],
    ['DDIM sample', new DDIMScheduler({ ...SD_BETAS, prediction_type: 'sample', clip_sample: false })],
    ['DDIM v', new DDIMScheduler({ ...SD_BETAS, prediction_type: 'v_prediction', clip_sample: true })],
    ['LCM', new LCMScheduler()],
    ['DPM++', new DPMSolverMultistepScheduler({ ...SD_BETAS })],
    ['DPM++ SDE', new DPMSolverMultistepScheduler({ ...SD_BETAS, algorithm_type: 'sde-dpmsolver++', prediction_type: 'v_prediction' })],
  ];
  for (const [, s] of list) s.setTimesteps(3);
  return list;
}

describe('stepCoefficients', () => {
  it('reproduce the first step of every scheduler', () => {
    for (const [name, s] of schedulers()) {
      const t = s.timesteps[0]!;
      const c = s.stepCoefficients(t);
      expect(c.stepIndex, name).toBe(0);
      expect(c.timestep, name).toBe(t);
      const sample = randn(shape, 90);
      const output = randn(shape, 91);
      const noise = randn(shape, 92);
      const fromCoefficients = applyStepCoefficients(c, sample, output, noise);
      expect(Array.from(fromCoefficients.modelInput.data), name).toEqual(Array.from(s.scaleModelInput(sample, t).data));
      const stepped = s.step(output, t, sample, { noise });
      const x0 = 'predOriginalSample' in stepped ? stepped.predOriginalSample : undefined;
      if (x0 instanceof Tensor) expectClose(fromCoefficients.predOriginalSample.data, x0.data, 1e-5, 1e-5);
      expectClose(fromCoefficients.prevSample.data, stepped.prevSample.data, 1e-5, 1e-5);
    }
  });

  it('does not move the step counter, and finds later steps by timestep', () => {
    const s = new EulerDiscreteScheduler({ ...SD_BETAS, timestep_spacing: 'trailing' });
    s.setTimesteps(3);
    const c = s.stepCoefficients(s.timesteps[1]!);
    expect(c.stepIndex).toBe(1);
    expect(s.stepIndex).toBeNull();
    const sample = randn(shape, 93);
    const output = randn(shape, 94);
    s.step(output, s.timesteps[0]!, sample);
    const second = s.step(output, s.timesteps[1]!, sample);
    expectClose(applyStepCoefficients(c, sample, output).prevSample.data, second.prevSample.data, 1e-5, 1e-5);
  });

  it('one-step SDXS: input 1/√(σ² + 1), x0 = x − σ·ε bit for bit, and the step lands on x0', () => {
    const s = schedulerFromConfig(readFileSync(GOLDEN_SCHEDULER_CONFIG, 'utf8'), GOLDEN_SCHEDULER_CONFIG);
    s.setTimesteps(1);
    const c = s.stepCoefficients(999);
    const sigma = s.initNoiseSigma;
    expect(c.x0Coef).toEqual({ sample: 1, modelOutput: -sigma, clip: null });
    expect(c.prevCoef).toEqual({ sample: 0, modelOutput: 0, predOriginal: 1, noise: 0 });
    expect(Math.abs(c.inputDivisor - Math.sqrt(sigma * sigma + 1))).toBeLessThan(1e-5);
    const latents = randn(shape, 95);
    const eps = randn(shape, 96);
    const stepped = s.step(eps, 999, latents);
    const x0 = 'predOriginalSample' in stepped ? stepped.predOriginalSample : undefined;
    if (!(x0 instanceof Tensor)) throw new Error('Euler returns x0');
    expect(Array.from(applyStepCoefficients(c, latents, eps).predOriginalSample.data)).toEqual(Array.from(x0.data));
  });

  it('ask for noise where the step adds some', () => {
    const s = new EulerAncestralDiscreteScheduler({ ...SD_BETAS, timestep_spacing: 'trailing' });
    s.setTimesteps(2);
    const c = s.stepCoefficients(s.timesteps[0]!);
    expect(c.prevCoef.noise).toBeGreaterThan(0);
    expect(() => applyStepCoefficients(c, randn(shape, 1), randn(shape, 2))).toThrow(/pass a noise tensor/);
    const generator = new Generator(0);
    expect(() => applyStepCoefficients(c, randn(shape, 1), randn(shape, 2), generator.randn(shape))).not.toThrow();
  });
});
