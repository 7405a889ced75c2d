import { describe, expect, it } from 'vitest';
import { Graph, InstanceNormalization, LayerNormalization, Softmax } from '@sdxs/graph';
import type { Tensor } from '@sdxs/tensor';
import { randomTensor } from '../harness.js';
import { HALF_ULP, expectNear, run, toHalf, valuesOf } from '../composite/_ref.js';

/** Softmax over `axis` of a row-major tensor, double precision. */
function softmaxRef(x: number[], shape: number[], axis: number): number[] {
  const n = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Array<number>(x.length);
  for (let o = 0; o < x.length / (n * inner); o++)
    for (let i = 0; i < inner; i++) {
      const at = (j: number) => o * n * inner + j * inner + i;
      let max = -Infinity;
      for (let j = 0; j < n; j++) max = Math.max(max, x[at(j)]!);
      let sum = 0;
      for (let j = 0; j < n; j++) sum += Math.exp(x[at(j)]! - max);
      for (let j = 0; j < n; j++) out[at(j)] = Math.exp(x[at(j)]! - max) / sum;
    }
  return out;
}

const shape = [2, 3, 4];

describe('Softmax', () => {
  for (const dtype of ['float32', 'float16'] as const)
    for (const axis of [-1, 1, 0]) {
      it(`${dtype} over axis ${axis}`, async () => {
        const g = new Graph();
        g.output(Softmax(g.input('x', dtype, shape), axis), 'y');
        const x32 = randomTensor(shape, 51, -4, 4);
        const x: Tensor = dtype === 'float16' ? toHalf(x32) : x32;
        const [atol, rtol] = dtype === 'float32' ? [1e-6, 1e-5] : [HALF_ULP * 2 ** -4, 2 * HALF_ULP];
        expectNear((await run(g, { x })).y, softmaxRef(valuesOf(x), shape, (axis + 3) % 3), shape, atol, rtol);
      });
    }

  it('refuses an axis out of range', () => {
    const g = new Graph();
    expect(() => Softmax(g.input('x', 'float32', shape), 3)).toThrow(/Softmax: axis 3 is out of range for rank 3/);
  });
});

describe('InstanceNormalization', () => {
  for (const dtype of ['float32', 'float16'] as const)
    it(`${dtype} normalizes each (n, c) over the spatial axes`, async () => {
      const xs = [2, 3, 2, 3];
      const g = new Graph();
      g.output(InstanceNormalization(g.input('x', dtype, ['n', 3, 'h', 'w']), g.input('s', dtype, [3]), g.input('b', dtype, [3]), 1e-3), 'y');
      const cast = (t: Tensor<'float32'>): Tensor => (dtype === 'float16' ? toHalf(t) : t);
      const feeds = { x: cast(randomTensor(xs, 52, -2, 2)), s: cast(randomTensor([3], 53)), b: cast(randomTensor([3], 54)) };
      const [x, s, b] = [valuesOf(feeds.x), valuesOf(feeds.s), valuesOf(feeds.b)];
      const ref: number[] = [];
      for (let start = 0; start < x.length; start += 6) {
        const row = x.slice(start, start + 6);
        const mean = row.reduce((p, q) => p + q, 0) / 6;
        const variance = row.reduce((p, q) => p + (q - mean) ** 2, 0) / 6;
        const c = (start / 6) % 3;
        for (const v of row) ref.push(((v - mean) / Math.sqrt(variance + 1e-3)) * s[c]! + b[c]!);
      }
      const [atol, rtol] = dtype === 'float32' ? [1e-5, 1e-5] : [2 * HALF_ULP, 2 * HALF_ULP];
      expectNear((await run(g, feeds)).y, ref, xs, atol, rtol);
    });

  it('checks scale and bias against the channel count', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [1, 3, 4]);
    expect(() => InstanceNormalization(x, g.input('s', 'float32', [4]), g.input('b', 'float32', [3]))).toThrow(/InstanceNormalization: scale must be \[3\]/);
    expect(() => InstanceNormalization(g.input('x2', 'float32', [1, 3]), g.input('s2', 'float32', [3]), g.input('b2', 'float32', [3]))).toThrow(/at least one spatial axis/);
  });
});

describe('LayerNormalization', () => {
  it('writes axis and epsilon, and checks the parameter shapes', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 3, 4]);
    const y = LayerNormalization(x, g.input('w', 'float32', [3, 4]), undefined, { axis: -2, epsilon: 1e-6 });
    expect(y.shape).toEqual([2, 3, 4]);
    const node = g.nodes.at(-1)!;
    expect(node.attributes).toEqual({ axis: { type: 'int', value: 1 }, epsilon: { type: 'float', value: 1e-6 } });
    expect(() => LayerNormalization(x, g.input('w2', 'float32', [4]), undefined, { axis: 1 })).toThrow(/LayerNormalization: w2 must have the normalized shape \[3, 4\]/);
    expect(() => LayerNormalization(x, g.input('w3', 'float16', [4]))).toThrow(/inputs must share a dtype/);
  });
});
