// Index arithmetic shared by the plain-TypeScript references of the op tests.
import { shapeSize, stridesOf, Tensor } from '@sdxs/tensor';
import { expect } from 'vitest';
import { rng } from '../harness.js';

/** Multi-index of flat position `i` in a row-major `shape`. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    const d = shape[a]!;
    idx[a] = i % d;
    i = Math.floor(i / d);
  }
  return idx;
}

/** Flat position in `shape` of the output multi-index `out`, numpy-broadcast (trailing dims aligned, 1s repeat). */
export function broadcastAt(out: readonly number[], shape: readonly number[]): number {
  const st = stridesOf(shape);
  const off = out.length - shape.length;
  let p = 0;
  for (let a = 0; a < shape.length; a++) if (shape[a] !== 1) p += out[a + off]! * st[a]!;
  return p;
}

/** out[i] = f(inputs at the broadcast position of i), for an output of `shape`. */
export function mapBroadcast(shape: readonly number[], inputs: readonly Tensor[], f: (...v: number[]) => number): number[] {
  return Array.from({ length: shapeSize(shape) }, (_, i) => {
    const idx = unravel(i, shape);
    return f(...inputs.map((t) => Number(t.data[broadcastAt(idx, t.shape)])));
  });
}

/** Random int64 tensor with values in [lo, hi]. */
export function randomInts(shape: readonly number[], seed: number, lo: number, hi: number): Tensor<'int64'> {
  const r = rng(seed);
  return new Tensor('int64', shape, BigInt64Array.from({ length: shapeSize(shape) }, () => BigInt(lo + Math.floor(r() * (hi - lo + 1)))));
}

/** Assert a result equals `expected` exactly (Object.is per element, so ±Infinity and -0 count), shape included. */
export function expectExact(actual: Tensor | undefined, expected: readonly number[], shape: readonly number[]): void {
  expect(actual).toBeDefined();
  expect([...actual!.shape]).toEqual([...shape]);
  const got: number[] = [];
  for (let i = 0; i < actual!.data.length; i++) got.push(Number(actual!.data[i]));
  expect(got).toEqual([...expected]);
}
