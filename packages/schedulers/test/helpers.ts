import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Generator, Tensor } from '@sdxs/tensor';
import { expect } from 'vitest';

/** The golden one-step pipeline case (read at test time, never copied into the repo). */
export const GOLDEN_PIPELINE = fileURLToPath(new URL('../../../../shared/golden/pipeline-sdxs512-t2i/', import.meta.url));
export const GOLDEN_SCHEDULER_CONFIG = `${GOLDEN_PIPELINE}model/scheduler/scheduler_config.json`;

export function readGoldenCase(): Record<string, unknown> {
  return JSON.parse(readFileSync(`${GOLDEN_PIPELINE}case.json`, 'utf8')) as Record<string, unknown>;
}

/** Standard-normal float32 tensor from a seeded torch-compatible generator. */
export function randn(shape: readonly number[], seed: number): Tensor<'float32'> {
  return new Generator(seed).randn(shape);
}

export function tensor(values: readonly number[], shape: readonly number[] = [values.length]): Tensor<'float32'> {
  return new Tensor('float32', shape, Float32Array.from(values));
}

/** Elementwise |a − b| <= atol + rtol·|b|, reporting the worst index. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol = 0): void {
  expect(actual.length).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const excess = Math.abs(actual[i]! - expected[i]!) - (atol + rtol * Math.abs(expected[i]!));
    if (!(excess <= worstExcess)) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
    }
  }
  if (worst >= 0) {
    expect.fail(`element ${worst}: ${actual[worst]} vs ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** Float64 reference of a float32 tensor's elementwise formula. */
export function reference(n: number, fn: (i: number) => number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => fn(i));
}

/** SD 1.x / SDXS training schedule. */
export const SD_BETAS = { beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear' } as const;
