import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SchedulerConfigError, parsePythonJson } from '../src/common/config.js';
import { DPMSolverMultistepScheduler } from '../src/dpmsolver-multistep.js';
import { EulerDiscreteScheduler } from '../src/euler-discrete.js';
import { SCHEDULERS, schedulerFromConfig } from '../src/registry.js';
import { GOLDEN_SCHEDULER_CONFIG } from './helpers.js';

const FILE = 'model/scheduler/scheduler_config.json';

function errorOf(fn: () => unknown): SchedulerConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SchedulerConfigError) return e;
    throw e;
  }
  throw new Error('expected a SchedulerConfigError');
}

describe('schedulerFromConfig', () => {
  it('builds the class `_class_name` names, with the config’s values', () => {
    const s = schedulerFromConfig(readFileSync(GOLDEN_SCHEDULER_CONFIG, 'utf8'), GOLDEN_SCHEDULER_CONFIG);
    expect(s).toBeInstanceOf(EulerDiscreteScheduler);
    expect(s.className).toBe('EulerDiscreteScheduler');
    if (!(s instanceof EulerDiscreteScheduler)) return;
    expect(s.config.timestep_spacing).toBe('trailing');
    expect(s.config.beta_schedule).toBe('scaled_linear');
    expect(s.config.steps_offset).toBe(1);
  });

  it('fills diffusers’ defaults and ignores keys the class does not take', () => {
    const s = schedulerFromConfig({ _class_name: 'DDIMScheduler', _diffusers_version: '0.40.0', skip_prk_steps: true }, FILE);
    expect(s.className).toBe('DDIMScheduler');
    expect(s.timesteps).toHaveLength(1000);
    const d = schedulerFromConfig({ _class_name: 'DDPMScheduler' }, FILE);
    expect(d.className).toBe('DDPMScheduler');
  });

  it('loads a config into another class, as from_config(pipe.scheduler.config) swaps schedulers', () => {
    const text = readFileSync(GOLDEN_SCHEDULER_CONFIG, 'utf8');
    for (const className of Object.keys(SCHEDULERS) as (keyof typeof SCHEDULERS)[]) {
      expect(schedulerFromConfig(text, GOLDEN_SCHEDULER_CONFIG, { className }).className).toBe(className);
    }
  });

  it('names the file and the class for an unknown or missing _class_name', () => {
    expect(() => schedulerFromConfig({ _class_name: 'PNDMScheduler' }, FILE)).toThrow(
      /model\/scheduler\/scheduler_config.json: field "_class_name": unknown or unsupported scheduler "PNDMScheduler"/,
    );
    expect(() => schedulerFromConfig({ beta_start: 0.1 }, FILE)).toThrow(/field "_class_name"/);
    expect(() => schedulerFromConfig('[1, 2]', FILE)).toThrow(SchedulerConfigError);
  });

  it('refuses unknown option values by field name', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ timestep_spacing: 'foo' }, /field "timestep_spacing": unknown value "foo" \(expected one of "linspace", "leading", "trailing"\)/],
      [{ beta_schedule: 'x' }, /field "beta_schedule": unknown value "x"/],
      [{ prediction_type: 'y' }, /field "prediction_type": unknown value "y"/],
      [{ final_sigmas_type: 'one' }, /field "final_sigmas_type"/],
    ];
    for (const [fields, pattern] of cases) {
      const e = errorOf(() => schedulerFromConfig({ _class_name: 'EulerDiscreteScheduler', ...fields }, FILE));
      expect(e.message).toMatch(pattern);
      expect(e.message.startsWith(`${FILE}: EulerDiscreteScheduler`)).toBe(true);
      expect(e.file).toBe(FILE);
    }
  });

  it('refuses values of the wrong type', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ num_train_timesteps: '1000' }, /"num_train_timesteps": expected an integer, got the string "1000"/],
      [{ num_train_timesteps: 10.5 }, /"num_train_timesteps": expected an integer, got number 10.5/],
      [{ beta_start: null }, /"beta_start": expected a number, got null/],
      [{ use_karras_sigmas: 'yes' }, /"use_karras_sigmas": expected true or false/],
      [{ trained_betas: [0.1, 'a'] }, /"trained_betas": expected null or an array of numbers/],
      [{ timestep_spacing: 3 }, /"timestep_spacing": expected one of/],
    ];
    for (const [fields, pattern] of cases) {
      expect(() => EulerDiscreteScheduler.fromConfig(fields, FILE)).toThrow(pattern);
    }
  });

  it('reports every bad field in one error', () => {
    const e = errorOf(() => EulerDiscreteScheduler.fromConfig({ timestep_spacing: 'foo', beta_schedule: 'x', steps_offset: -1 }, FILE));
    expect(e.problems).toHaveLength(3);
    expect(e.message).toMatch(/beta_schedule[^;]*; [^;]*timestep_spacing[^;]*; [^;]*steps_offset/);
  });

  it('refuses diffusers options it does not implement as unsupported, not unknown', () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['EulerDiscreteScheduler', { interpolation_type: 'log_linear' }, /"interpolation_type": "log_linear" is a diffusers option @sdxs\/schedulers does not support/],
      ['EulerDiscreteScheduler', { use_beta_sigmas: true }, /"use_beta_sigmas": true is not supported/],
      ['DDIMScheduler', { thresholding: true }, /"thresholding": true is not supported/],
      ['DDPMScheduler', { beta_schedule: 'sigmoid' }, /"beta_schedule": "sigmoid" is a diffusers option/],
      ['DDPMScheduler', { variance_type: 'learned_range' }, /"variance_type": "learned_range" is a diffusers option/],
      ['EulerAncestralDiscreteScheduler', { prediction_type: 'sample' }, /"prediction_type": "sample" is a diffusers option/],
      ['DPMSolverMultistepScheduler', { algorithm_type: 'sde-dpmsolver' }, /"algorithm_type": "sde-dpmsolver" is a diffusers option/],
      ['DPMSolverMultistepScheduler', { variance_type: 'learned' }, /"variance_type": "learned" is a diffusers option/],
      ['DPMSolverMultistepScheduler', { use_lu_lambdas: true }, /"use_lu_lambdas": true is not supported/],
    ];
    for (const [className, fields, pattern] of cases) {
      expect(() => schedulerFromConfig({ _class_name: className, ...fields }, FILE)).toThrow(pattern);
    }
  });

  it('checks fields against each other', () => {
    expect(() => EulerDiscreteScheduler.fromConfig({ use_karras_sigmas: true, use_exponential_sigmas: true }, FILE)).toThrow(/only one can be true/);
    expect(() => EulerDiscreteScheduler.fromConfig({ trained_betas: [0.1, 0.2] }, FILE)).toThrow(/2 values for num_train_timesteps 1000/);
  });

  it('reads the JSON diffusers writes: -Infinity, null bools, renamed options', () => {
    const text = '{"_class_name": "DPMSolverMultistepScheduler", "lambda_min_clipped": -Infinity, "variance_type": null, "use_karras_sigmas": null, "algorithm_type": "deis", "solver_type": "bh2", "note": "-Infinity NaN"}';
    const s = schedulerFromConfig(text, FILE);
    expect(s).toBeInstanceOf(DPMSolverMultistepScheduler);
    if (!(s instanceof DPMSolverMultistepScheduler)) return;
    expect(s.config.lambda_min_clipped).toBe(-Infinity);
    expect(s.config.use_karras_sigmas).toBe(false);
    expect(s.config.algorithm_type).toBe('dpmsolver++');
    expect(s.config.solver_type).toBe('midpoint');
    expect(parsePythonJson('{"a": "-Infinity \\" NaN", "b": [NaN, Infinity]}')).toEqual({ a: '-Infinity " NaN', b: [NaN, Infinity] });
  });

  it('validates constructor options the same way', () => {
    expect(() => new EulerDiscreteScheduler({ num_train_timesteps: 0 })).toThrow(/<EulerDiscreteScheduler config>: .*num_train_timesteps/);
  });
});
