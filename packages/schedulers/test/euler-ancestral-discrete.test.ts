import { Generator } from '@sdxs/tensor';
import { describe, expect, it } from 'vitest';
import { EulerAncestralDiscreteScheduler } from '../src/euler-ancestral-discrete.js';
import { SD_BETAS, expectClose, randn, reference } from './helpers.js';

describe('EulerAncestralDiscreteScheduler', () => {
  const shape = [2, 4, 2, 2];
  const sample = randn(shape, 3);
  const eps = randn(shape, 4);

  function make(): EulerAncestralDiscreteScheduler {
    const s = new EulerAncestralDiscreteScheduler({ ...SD_BETAS, timestep_spacing: 'trailing' });
    s.setTimesteps(4);
    return s;
  }

  it('steps to σ_down and adds σ_up·z, with σ_up² + σ_down² = σ_to²', () => {
    const s = make();
    const [from, to] = s.sigmas as [number, number];
    const up = Math.sqrt((to * to * (from * from - to * to)) / (from * from));
    const down = Math.sqrt(to * to - up * up);
    expect(Math.abs(up * up + down * down - to * to)).toBeLessThan(1e-9);
    const out = s.step(eps, s.timesteps[0]!, sample, { generator: new Generator(11) });
    const z = new Generator(11).randn(shape);
    const expected = reference(sample.size, (i) => sample.data[i]! + eps.data[i]! * (down - from) + up * z.data[i]!);
    expectClose(out.prevSample.data, expected, 1e-5, 1e-5);
    expectClose(out.predOriginalSample.data, reference(sample.size, (i) => sample.data[i]! - from * eps.data[i]!), 1e-6, 1e-6);
  });

  it('draws from the generator it is given: same seed, same result; explicit noise equals the draw', () => {
    const a = make().step(eps, 999, sample, { generator: new Generator(5) }).prevSample;
    const b = make().step(eps, 999, sample, { generator: new Generator(5) }).prevSample;
    const c = make().step(eps, 999, sample, { generator: new Generator(6) }).prevSample;
    const d = make().step(eps, 999, sample, { noise: new Generator(5).randn(shape) }).prevSample;
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(a.data)).toEqual(Array.from(d.data));
    expect(Array.from(a.data)).not.toEqual(Array.from(c.data));
  });

  it('the last step lands on x0 (σ_to = 0 gives σ_up = 0) but still consumes a draw', () => {
    const s = new EulerAncestralDiscreteScheduler({ ...SD_BETAS, timestep_spacing: 'trailing' });
    s.setTimesteps(1);
    const generator = new Generator(9);
    const out = s.step(eps, 999, sample, { generator });
    expectClose(out.prevSample.data, out.predOriginalSample.data, 1e-6, 1e-6);
    const after = new Generator(9);
    after.randn(shape);
    expect(Array.from(generator.randn([3]).data)).toEqual(Array.from(after.randn([3]).data));
  });

  it('v-prediction uses c_skip = 1/(σ² + 1), c_out = −σ/√(σ² + 1)', () => {
    const s = new EulerAncestralDiscreteScheduler({ ...SD_BETAS, prediction_type: 'v_prediction', timestep_spacing: 'trailing' });
    s.setTimesteps(2);
    const sigma = s.sigmas[0]!;
    const out = s.step(eps, s.timesteps[0]!, sample, { generator: new Generator(0) });
    const x0 = reference(sample.size, (i) => sample.data[i]! / (sigma * sigma + 1) - (sigma / Math.sqrt(sigma * sigma + 1)) * eps.data[i]!);
    expectClose(out.predOriginalSample.data, x0, 1e-5, 1e-6);
  });

  it('scales inputs and init noise like Euler', () => {
    const s = make();
    expect(s.initNoiseSigma).toBe(s.sigmas[0]);
    const leading = new EulerAncestralDiscreteScheduler({ ...SD_BETAS, timestep_spacing: 'leading', steps_offset: 1 });
    leading.setTimesteps(4);
    expectClose([leading.initNoiseSigma], [Math.sqrt(leading.sigmas[0]! ** 2 + 1)], 1e-6);
    const sigma = s.sigmas[0]!;
    expectClose(s.scaleModelInput(sample, 999).data, reference(sample.size, (i) => sample.data[i]! / Math.sqrt(sigma * sigma + 1)), 1e-6);
  });

  it('add_noise takes one timestep per batch entry', () => {
    const s = make();
    const [t0, t1] = s.timesteps as [number, number];
    const noisy = s.addNoise(sample, eps, [t0, t1]);
    const half = sample.size / 2;
    const expected = reference(sample.size, (i) => sample.data[i]! + (i < half ? s.sigmas[0]! : s.sigmas[1]!) * eps.data[i]!);
    expectClose(noisy.data, expected, 1e-6, 1e-6);
    expect(() => s.addNoise(sample, eps, [t0])).toThrow(/1 timesteps for a batch of 2/);
  });
});
