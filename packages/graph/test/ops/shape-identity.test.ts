import { describe, expect, it } from 'vitest';
import { Graph, Identity, Shape } from '@sdxs/graph';
import { expectClose, randomTensor, runGraph } from '../harness.js';
import { roundedF16, toF16, widen } from './f16.js';
import { expectExact } from './ref.js';

describe('Shape', () => {
  it('returns the run-time dims, optionally a [start, end) window with clamping', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 5, 'w', 7]);
    const cases: [number | undefined, number | undefined, number[]][] = [
      [undefined, undefined, [2, 5, 3, 7]],
      [1, undefined, [5, 3, 7]],
      [0, 1, [2]],
      [-2, undefined, [3, 7]],
      [-10, 10, [2, 5, 3, 7]],
      [3, 1, []],
    ];
    cases.forEach(([s, e, ref], i) => {
      const y = Shape(x, s, e);
      expect(y.dtype).toBe('int64');
      expect(y.shape).toEqual([ref.length]);
      g.output(y, `y${i}`);
    });
    const out = await runGraph(g, { x: randomTensor([2, 5, 3, 7], 280) });
    cases.forEach(([, , ref], i) => expectExact(out[`y${i}`], ref, [ref.length]));
  });
});

describe('Identity', () => {
  for (const dtype of ['float32', 'float16'] as const) {
    it(`${dtype}: passes the tensor through under a new name`, async () => {
      const g = new Graph();
      const x = g.input('x', dtype, ['batch', 3]);
      const y = Identity(x);
      expect(y.shape).toEqual(['batch', 3]);
      expect(y.name).not.toBe(x.name);
      g.output(y, 'y');
      const xv = roundedF16(randomTensor([4, 3], 290));
      const out = await runGraph(g, { x: dtype === 'float16' ? toF16(xv) : xv });
      expectClose(widen(out['y']), Array.from(xv.data), [4, 3], 0, 0);
    });
  }
});
