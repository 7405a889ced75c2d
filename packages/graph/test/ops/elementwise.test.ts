import { describe, expect, it } from 'vitest';
import { Abs, Add, Cos, Div, Erf, Exp, Graph, Log, Mul, Neg, Pow, Reciprocal, Relu, Sigmoid, Sin, Sqrt, Sub, Tanh, type Value } from '@sdxs/graph';
import type { Tensor } from '@sdxs/tensor';
import { expectClose, randomTensor, runGraph } from '../harness.js';
import { F16_ATOL, F16_RTOL, roundedF16, toF16, widen } from './f16.js';
import { mapBroadcast } from './ref.js';

/** erf by its Maclaurin series, accurate to ~1e-15 for |x| ≤ 3 in float64. */
function erf(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 60; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

type Binary = (a: Value, b: Value) => Value;
const binaries: [string, Binary, (a: number, b: number) => number][] = [
  ['Add', Add, (a, b) => a + b],
  ['Sub', Sub, (a, b) => a - b],
  ['Mul', Mul, (a, b) => a * b],
  ['Div', Div, (a, b) => a / b],
  ['Pow', Pow, (a, b) => a ** b],
];

// [name, op, reference, input range]
const unaries: [string, (x: Value) => Value, (x: number) => number, number, number][] = [
  ['Sqrt', Sqrt, Math.sqrt, 0.01, 4],
  ['Exp', Exp, Math.exp, -4, 4],
  ['Log', Log, Math.log, 0.01, 4],
  ['Erf', Erf, erf, -2.5, 2.5],
  ['Tanh', Tanh, Math.tanh, -3, 3],
  ['Sigmoid', Sigmoid, (x) => 1 / (1 + Math.exp(-x)), -6, 6],
  ['Cos', Cos, Math.cos, -4, 4],
  ['Sin', Sin, Math.sin, -4, 4],
  ['Neg', Neg, (x) => -x, -2, 2],
  ['Relu', Relu, (x) => Math.max(0, x), -2, 2],
  ['Reciprocal', Reciprocal, (x) => 1 / x, 0.1, 3],
  ['Abs', Abs, Math.abs, -2, 2],
];

// Broadcast cases: [a shape at build time, b shape, a runtime shape, expected built output shape].
const cases: [(number | string)[], number[], number[], (number | string)[]][] = [
  [[3, 5, 7], [3, 5, 7], [3, 5, 7], [3, 5, 7]],
  [[3, 5, 7], [5, 1], [3, 5, 7], [3, 5, 7]],
  [[3, 1, 7], [5, 1], [3, 1, 7], [3, 5, 7]],
  [['batch', 5, 1], [7], [2, 5, 1], ['batch', 5, 7]],
  [[1], [2, 3], [1], [2, 3]],
];

function input(g: Graph, name: string, dtype: 'float32' | 'float16', shape: (number | string)[]): Value {
  return g.input(name, dtype, shape);
}

describe('binary elementwise ops', () => {
  for (const [name, op, ref] of binaries) {
    for (const dtype of ['float32', 'float16'] as const) {
      it(`${name} ${dtype}: broadcasting, symbolic dims and ORT vs reference`, async () => {
        for (const [ci, [as, bs, aRun, outShape]] of cases.entries()) {
          const g = new Graph();
          const a = input(g, 'a', dtype, as);
          const b = input(g, 'b', dtype, bs);
          const y = op(a, b);
          expect(y.shape).toEqual(outShape);
          expect(y.dtype).toBe(dtype);
          g.output(y, 'y');
          // Pow gets positive bases so that fractional exponents stay real; Div keeps divisors away from 0.
          const lo = name === 'Pow' ? 0.5 : -2;
          const bLo = name === 'Div' ? 0.5 : -2;
          let av = randomTensor(aRun, 10 + ci, lo, 2);
          let bv = randomTensor(bs, 20 + ci, bLo, 2);
          if (dtype === 'float16') [av, bv] = [roundedF16(av), roundedF16(bv)];
          const outRun = outShape.map((d, i) => (typeof d === 'number' ? d : aRun[i]!));
          const out = await runGraph(g, dtype === 'float16' ? { a: toF16(av), b: toF16(bv) } : { a: av, b: bv });
          if (dtype === 'float32') {
            // + − × ÷ are correctly rounded in f32: the f64 result rounded to f32 must match exactly.
            // Pow goes through a libm pow: allow 2 f32 ulps (2^-22 relative).
            const exact = name !== 'Pow';
            expectClose(out['y'], mapBroadcast(outRun, [av, bv], (x, z) => Math.fround(ref(x, z))), outRun, 0, exact ? 0 : 2 ** -22);
          } else {
            expectClose(widen(out['y']), mapBroadcast(outRun, [av, bv], ref), outRun, F16_ATOL, F16_RTOL);
          }
        }
      });
    }
  }

  it('names the op and both shapes when shapes do not broadcast', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [3, 5, 7]);
    const b = g.input('b', 'float32', [5, 6]);
    expect(() => Mul(a, b)).toThrow(/Mul: cannot broadcast \[3, 5, 7\] with \[5, 6\]/);
    expect(() => Sub(a, g.input('c', 'float16', [7]))).toThrow(/Sub: inputs must share a dtype, got float32 and float16/);
  });
});

describe('unary elementwise ops', () => {
  for (const [name, op, ref, lo, hi] of unaries) {
    it(`${name}: f32 and f16 on a symbolic [batch, 5, 7]`, async () => {
      for (const dtype of ['float32', 'float16'] as const) {
        const g = new Graph();
        const x = g.input('x', dtype, ['batch', 5, 7]);
        const y = op(x);
        expect(y.shape).toEqual(['batch', 5, 7]);
        expect(y.dtype).toBe(dtype);
        g.output(y, 'y');
        let xv: Tensor<'float32'> = randomTensor([3, 5, 7], name.length, lo, hi);
        if (dtype === 'float16') xv = roundedF16(xv);
        const out = await runGraph(g, { x: dtype === 'float16' ? toF16(xv) : xv });
        const expected = Array.from(xv.data, ref);
        if (dtype === 'float32') {
          // MLAS evaluates exp/tanh/erf/logistic by polynomial approximations: a few f32 ulps, so 2^-20
          // relative (8 ulps) plus 2^-23 absolute where results pass through 0 (sin, erf near 0).
          expectClose(out['y'], expected, [3, 5, 7], 2 ** -23, 2 ** -20);
        } else {
          expectClose(widen(out['y']), expected, [3, 5, 7], F16_ATOL, F16_RTOL);
        }
      }
    });
  }

  it('refuses integer inputs to float-only ops, naming the op', () => {
    const g = new Graph();
    const i = g.input('i', 'int64', [3]);
    expect(() => Sqrt(i)).toThrow(/Sqrt: expects a floating-point tensor, got int64/);
    expect(Abs(i).dtype).toBe('int64');
  });
});
