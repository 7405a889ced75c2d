import { describe, expect, it } from 'vitest';
import { Clip, Graph, Max, Min, scalar } from '@sdxs/graph';
import type { Tensor } from '@sdxs/tensor';
import { expectClose, randomTensor, runGraph } from '../harness.js';
import { roundedF16, toF16, widen } from './f16.js';
import { mapBroadcast } from './ref.js';

describe('Clip', () => {
  for (const dtype of ['float32', 'float16'] as const) {
    it(`${dtype}: both bounds, one bound, none, and a tensor bound`, async () => {
      const g = new Graph();
      const x = g.input('x', dtype, ['batch', 5, 7]);
      const outs = {
        both: Clip(x, -0.5, 0.25),
        lo: Clip(x, 0.125),
        hi: Clip(x, undefined, -0.25),
        none: Clip(x),
        t: Clip(x, scalar(g, -0.75, dtype), 0.5),
      };
      for (const [k, v] of Object.entries(outs)) {
        expect(v.shape).toEqual(['batch', 5, 7]);
        g.output(v, k);
      }
      const xv = roundedF16(randomTensor([3, 5, 7], 210));
      const out = await runGraph(g, { x: dtype === 'float16' ? toF16(xv) : xv });
      const clamp = (lo: number, hi: number): number[] => Array.from(xv.data, (v) => Math.min(Math.max(v, lo), hi));
      // All bounds are f16-representable, so clamping is exact in both dtypes.
      expectClose(widen(out['both']), clamp(-0.5, 0.25), [3, 5, 7], 0, 0);
      expectClose(widen(out['lo']), clamp(0.125, Infinity), [3, 5, 7], 0, 0);
      expectClose(widen(out['hi']), clamp(-Infinity, -0.25), [3, 5, 7], 0, 0);
      expectClose(widen(out['none']), Array.from(xv.data), [3, 5, 7], 0, 0);
      expectClose(widen(out['t']), clamp(-0.75, 0.5), [3, 5, 7], 0, 0);
    });
  }

  it('leaves out an omitted min as an empty input name, and names the op on bad bounds', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [3]);
    Clip(x, undefined, 1);
    expect(g.nodes.at(-1)!.inputs[1]).toBe('');
    expect(() => Clip(x, g.input('m', 'float32', [3]))).toThrow(/Clip: bounds must be scalars.*\[3\], \[3\]/);
    expect(() => Clip(x, g.input('h', 'float16', []))).toThrow(/Clip: inputs must share a dtype, got float32 and float16/);
  });
});

describe('Max and Min', () => {
  for (const dtype of ['float32', 'float16'] as const) {
    it(`${dtype}: three operands broadcasting together, and a number operand`, async () => {
      const g = new Graph();
      const a = g.input('a', dtype, [3, 1, 7]);
      const b = g.input('b', dtype, [5, 1]);
      const c = g.input('c', dtype, ['n']);
      const mx = Max(a, b, c);
      const mn = Min(a, b, c);
      const relu = Max(a, 0);
      expect(mx.shape).toEqual([3, 5, 7]);
      expect(mn.shape).toEqual([3, 5, 7]);
      expect(relu.shape).toEqual([3, 1, 7]);
      g.output(mx, 'mx');
      g.output(mn, 'mn');
      g.output(relu, 'relu');
      const vals = [randomTensor([3, 1, 7], 220), randomTensor([5, 1], 221), randomTensor([7], 222)].map(roundedF16);
      const f = (t: Tensor<'float32'>): Tensor => (dtype === 'float16' ? toF16(t) : t);
      const out = await runGraph(g, { a: f(vals[0]!), b: f(vals[1]!), c: f(vals[2]!) });
      expectClose(widen(out['mx']), mapBroadcast([3, 5, 7], vals, Math.max), [3, 5, 7], 0, 0);
      expectClose(widen(out['mn']), mapBroadcast([3, 5, 7], vals, Math.min), [3, 5, 7], 0, 0);
      expectClose(widen(out['relu']), Array.from(vals[0]!.data, (v) => Math.max(v, 0)), [3, 1, 7], 0, 0);
    });
  }

  it('names the op and the shapes on bad input', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [3, 5]);
    expect(() => Max(a, g.input('b', 'float32', [4]))).toThrow(/Max: cannot broadcast \[3, 5\], \[4\]/);
    expect(() => Min(a, g.input('c', 'int64', [5]))).toThrow(/Min: inputs must share a dtype, got float32 and int64/);
    expect(() => Min(1, 2)).toThrow(/Min: needs at least one tensor operand/);
  });
});
