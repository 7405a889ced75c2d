import { describe, expect, it } from 'vitest';
import { And, Cast, Graph, Not, ONNX_DTYPE, Where } from '@sdxs/graph';
import { shapeSize, Tensor } from '@sdxs/tensor';
import { expectClose, randomTensor, rng, runGraph } from '../harness.js';
import { f16Bits, roundedF16, toF16, widen } from './f16.js';
import { expectExact, mapBroadcast } from './ref.js';

function randomBools(shape: readonly number[], seed: number): Tensor<'bool'> {
  const r = rng(seed);
  return new Tensor('bool', shape, Uint8Array.from({ length: shapeSize(shape) }, () => (r() < 0.5 ? 1 : 0)));
}

describe('Cast', () => {
  it('rounds f32 to f16 to nearest-even, bit for bit, and widens back exactly', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [3, 5, 7]);
    const h = Cast(x, 'float16');
    expect(h.dtype).toBe('float16');
    expect(h.shape).toEqual([3, 5, 7]);
    g.output(h, 'h');
    g.output(Cast(h, 'float32'), 'back');
    // Include values beyond f16's range and below its normal range.
    const xv = randomTensor([3, 5, 7], 150, -8, 8);
    xv.data.set([70000, -65520, 65519, 1e-6, -3e-8, 2 ** -25, 0.1]);
    const out = await runGraph(g, { x: xv });
    expectExact(out['h'], Array.from(xv.data, f16Bits), [3, 5, 7]);
    // expectExact, not expectClose: ±Infinity − ±Infinity is NaN, which expectClose counts as a mismatch.
    expectExact(out['back'], Array.from(roundedF16(xv).data), [3, 5, 7]);
  });

  it('truncates floats to integers, maps to bool by x ≠ 0, and back', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['n']);
    g.output(Cast(x, 'int64'), 'i64');
    g.output(Cast(x, 'int32'), 'i32');
    const b = Cast(x, 'bool');
    g.output(b, 'b');
    g.output(Cast(b, 'float32'), 'bf');
    g.output(Cast(Cast(x, 'int64'), 'float16'), 'h');
    const vals = [-2.7, -0.5, 0, 0.5, 1.99, 3, -3, 6.5];
    const xv = new Tensor('float32', [8], Float32Array.from(vals));
    const out = await runGraph(g, { x: xv });
    const trunc = vals.map((v) => Math.trunc(v) + 0); // + 0 turns -0 into the integer 0
    expectExact(out['i64'], trunc, [8]);
    expectExact(out['i32'], trunc, [8]);
    expectExact(out['b'], vals.map((v) => (v !== 0 ? 1 : 0)), [8]);
    expectClose(out['bf'], vals.map((v) => (v !== 0 ? 1 : 0)), [8], 0, 0);
    expectClose(widen(out['h']), trunc, [8], 0, 0);
    expect(out['b']!.dtype).toBe('bool');
  });

  it('writes the ONNX dtype code in `to`', () => {
    const g = new Graph();
    Cast(g.input('x', 'float32', [2]), 'bfloat16');
    expect(g.nodes[0]!.attributes['to']).toEqual({ type: 'int', value: ONNX_DTYPE.bfloat16 });
    expect(ONNX_DTYPE.bfloat16).toBe(16);
  });
});

describe('Where', () => {
  for (const dtype of ['float32', 'float16'] as const) {
    it(`${dtype}: three-way broadcasting with a bool condition`, async () => {
      const g = new Graph();
      const c = g.input('c', 'bool', [5, 1]);
      const a = g.input('a', dtype, [3, 1, 7]);
      const b = g.input('b', dtype, [7]);
      const y = Where(c, a, b);
      expect(y.shape).toEqual([3, 5, 7]);
      expect(y.dtype).toBe(dtype);
      g.output(y, 'y');
      const cv = randomBools([5, 1], 160);
      const av = roundedF16(randomTensor([3, 1, 7], 161));
      const bv = roundedF16(randomTensor([7], 162));
      const f = (t: Tensor<'float32'>): Tensor => (dtype === 'float16' ? toF16(t) : t);
      const out = await runGraph(g, { c: cv, a: f(av), b: f(bv) });
      expectClose(widen(out['y']), mapBroadcast([3, 5, 7], [cv, av, bv], (k, p, q) => (k ? p : q)), [3, 5, 7], 0, 0);
    });
  }

  it('takes number branches in the tensor branch dtype, keeps symbolic dims, names shapes on error', async () => {
    const g = new Graph();
    const c = g.input('c', 'bool', ['batch', 1, 4]);
    const s = g.input('s', 'float16', [1, 3, 1]);
    const y = Where(c, s, -Infinity);
    expect(y.shape).toEqual(['batch', 3, 4]);
    expect(y.dtype).toBe('float16');
    g.output(y, 'y');
    const cv = randomBools([2, 1, 4], 170);
    const sv = roundedF16(randomTensor([1, 3, 1], 171));
    const out = await runGraph(g, { c: cv, s: toF16(sv) });
    expectExact(widen(out['y']), mapBroadcast([2, 3, 4], [cv, sv], (k, p) => (k ? p : -Infinity)), [2, 3, 4]);
    expect(() => Where(g.input('f', 'float32', [4]), s, 0)).toThrow(/Where: the condition must be bool, got float32.*\[4\], \[1, 3, 1\], \[\]/);
    expect(() => Where(c, s, g.input('d', 'float16', [5]))).toThrow(/Where: cannot broadcast \[batch, 1, 4\], \[1, 3, 1\], \[5\]/);
    expect(() => Where(c, s, g.input('e', 'float32', [4]))).toThrow(/Where: inputs must share a dtype, got float16 and float32/);
    expect(() => Where(c, 1, 0)).toThrow(/Where: a or b must be a tensor/);
  });
});

describe('Not and And', () => {
  it('negate and combine bool tensors with broadcasting', async () => {
    const g = new Graph();
    const a = g.input('a', 'bool', [3, 5]);
    const b = g.input('b', 'bool', [5]);
    const y = And(Not(a), b);
    expect(y.shape).toEqual([3, 5]);
    expect(y.dtype).toBe('bool');
    g.output(y, 'y');
    const av = randomBools([3, 5], 180);
    const bv = randomBools([5], 181);
    const out = await runGraph(g, { a: av, b: bv });
    expectExact(out['y'], mapBroadcast([3, 5], [av, bv], (p, q) => (!p && q ? 1 : 0)), [3, 5]);
    expect(() => Not(g.input('f', 'float32', [2]))).toThrow(/Not: expects a bool tensor, got float32/);
    expect(() => And(a, g.input('i', 'int64', [5]))).toThrow(/And: expects bool tensors, got bool and int64.*\[3, 5\], \[5\]/);
  });
});
