import { describe, expect, it } from 'vitest';
import { ArgMax, Graph, Range } from '@sdxs/graph';
import { shapeSize, stridesOf, Tensor } from '@sdxs/tensor';
import { expectClose, rng, runGraph } from '../harness.js';
import { toF16 } from './f16.js';
import { expectExact, unravel } from './ref.js';

/** Index of the max along `axis` by a linear scan; ties go to the first (or last) maximum. */
function argmaxRef(x: Tensor<'float32'>, axis: number, last: boolean): number[] {
  const outShape = x.shape.map((d, i) => (i === axis ? 1 : d));
  const st = stridesOf(x.shape);
  return Array.from({ length: shapeSize(outShape) }, (_, o) => {
    const base = unravel(o, outShape).reduce((p, v, a) => p + v * st[a]!, 0);
    let best = 0;
    for (let k = 1; k < x.shape[axis]!; k++) {
      const v = x.data[base + k * st[axis]!]!;
      const b = x.data[base + best * st[axis]!]!;
      if (v > b || (last && v === b)) best = k;
    }
    return best;
  });
}

describe('ArgMax', () => {
  for (const dtype of ['float32', 'float16'] as const) {
    it(`${dtype}: every axis, keepdims on and off, first and last index among ties`, async () => {
      const xs = [3, 5, 7];
      // Values from {0, 1, 2} so that ties are common.
      const r = rng(190);
      const xv = new Tensor('float32', xs, Float32Array.from({ length: 105 }, () => Math.floor(r() * 3)));
      for (const axis of [0, 1, -1]) {
        const ax = (axis + 3) % 3;
        for (const keepdims of [true, false]) {
          for (const selectLastIndex of [false, true]) {
            const g = new Graph();
            const y = ArgMax(g.input('x', dtype, xs), axis, { keepdims, selectLastIndex });
            const shape = keepdims ? xs.map((d, i) => (i === ax ? 1 : d)) : xs.filter((_, i) => i !== ax);
            expect(y.shape).toEqual(shape);
            expect(y.dtype).toBe('int64');
            g.output(y, 'y');
            const out = await runGraph(g, { x: dtype === 'float16' ? toF16(xv) : xv });
            expectExact(out['y'], argmaxRef(xv, ax, selectLastIndex), shape);
          }
        }
      }
    });
  }

  it('keeps symbolic dims and names the op and shape on bad input', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 10]);
    expect(ArgMax(x, -1, { keepdims: false }).shape).toEqual(['batch']);
    expect(ArgMax(x).shape).toEqual([1, 10]);
    expect(() => ArgMax(x, 2)).toThrow(/ArgMax: axis 2 is out of range for rank 2.*\[batch, 10\]/);
    expect(() => ArgMax(g.input('b', 'bool', [3]))).toThrow(/ArgMax: bool tensors have no order/);
  });
});

describe('Range', () => {
  it('computes ceil((limit − start) / delta) values from constant bounds', async () => {
    // [start, limit, delta, dtype]
    const cases: [number, number, number, 'int64' | 'int32' | 'float32'][] = [
      [0, 10, 3, 'int64'],
      [5, -4, -2, 'int32'],
      [3, 3, 1, 'int64'],
      [4, 1, 1, 'int64'],
      [-1.5, 2, 0.25, 'float32'],
      [0, 1, 0.1, 'float32'],
    ];
    for (const [start, limit, delta, dtype] of cases) {
      const g = new Graph();
      const y = Range(start, limit, delta, { dtype, graph: g });
      const ref: number[] = [];
      for (let v = start; delta > 0 ? v < limit : v > limit; v = start + ref.length * delta) ref.push(v);
      expect(y.shape).toEqual([ref.length]);
      expect(y.dtype).toBe(dtype);
      g.output(y, 'y');
      const out = await runGraph(g, {});
      // 0.1 is not a float32: ORT adds the rounded delta step by step, ≤ 10 roundings of ≤ 2^-25 each.
      if (dtype === 'float32') expectClose(out['y'], ref, [ref.length], 2 ** -21, 0);
      else expectExact(out['y'], ref, [ref.length]);
    }
  });

  it('takes scalar tensor bounds (length known at run time), with numbers in their dtype', async () => {
    const g = new Graph();
    const n = g.input('n', 'int64', []);
    const y = Range(0, n, 2);
    expect(y.dtype).toBe('int64');
    expect(y.shape.length).toBe(1);
    expect(typeof y.shape[0]).toBe('string');
    g.output(y, 'y');
    const out = await runGraph(g, { n: new Tensor('int64', [], BigInt64Array.from([7n])) });
    expectExact(out['y'], [0, 2, 4, 6], [4]);
  });

  it('names the op on bad bounds', () => {
    const g = new Graph();
    expect(() => Range(0, 4, 1)).toThrow(/Range: needs at least one symbolic tensor operand/);
    expect(() => Range(0, 4, 0, { graph: g })).toThrow(/Range: delta must not be 0/);
    const f = g.input('f', 'float32', []);
    expect(() => Range(0, f, 0)).toThrow(/Range: delta must not be 0/);
    expect(() => Range(0, f, 1, { dtype: 'int64' })).toThrow(/Range: dtype int64 differs from the bounds' float32/);
    expect(() => Range(0, g.input('v', 'int64', [2]), 1)).toThrow(/Range: bounds must be scalars of one dtype/);
    expect(() => Range(0, g.input('h', 'float16', []), 1)).toThrow(/Range: unsupported dtype float16/);
    expect(() => Range(0.5, g.input('i', 'int32', []), 1)).toThrow(/Range: int32 bounds must be integers, got 0.5, 1/);
  });
});
