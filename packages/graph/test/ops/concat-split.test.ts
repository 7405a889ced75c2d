import { describe, expect, it } from 'vitest';
import { Concat, Graph, Split } from '@sdxs/graph';
import { shapeSize, type Tensor } from '@sdxs/tensor';
import { expectClose, randomTensor, runGraph } from '../harness.js';
import { roundedF16, toF16, widen } from './f16.js';
import { unravel } from './ref.js';

/** Elements of `x` whose index along `axis` lies in [from, from + len), in row-major order. */
function take(x: Tensor<'float32'>, axis: number, from: number, len: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < x.size; i++) {
    const p = unravel(i, x.shape)[axis]!;
    if (p >= from && p < from + len) out.push(x.data[i]!);
  }
  return out;
}

describe('Concat', () => {
  for (const dtype of ['float32', 'float16'] as const) {
    it(`${dtype}: joins odd shapes along each axis, negative axis included`, async () => {
      const base = [3, 5, 7];
      for (const axis of [0, 1, -1]) {
        const ax = axis < 0 ? axis + 3 : axis;
        const sizes = [2, 1, 4];
        const g = new Graph();
        const shapes = sizes.map((s) => base.map((d, i) => (i === ax ? s : d)));
        const ins = shapes.map((s, i) => g.input(`x${i}`, dtype, s));
        const y = Concat(ins, axis);
        const outShape = base.map((d, i) => (i === ax ? 7 : d));
        expect(y.shape).toEqual(outShape);
        g.output(y, 'y');
        const vals = shapes.map((s, i) => roundedF16(randomTensor(s, 30 + i)));
        const feeds: Record<string, Tensor> = {};
        vals.forEach((v, i) => (feeds[`x${i}`] = dtype === 'float16' ? toF16(v) : v));
        const out = await runGraph(g, feeds);
        // Reference: walk the output; position p along the axis falls in input j at p − offset_j.
        const ref = Array.from({ length: shapeSize(outShape) }, (_, o) => {
          const idx = unravel(o, outShape);
          let p = idx[ax]!;
          let j = 0;
          while (p >= sizes[j]!) p -= sizes[j++]!;
          idx[ax] = p;
          const src = vals[j]!;
          let flat = 0;
          idx.forEach((v, a) => (flat = flat * src.shape[a]! + v));
          return src.data[flat]!;
        });
        // Data movement only: exact in both dtypes (inputs are f16-representable).
        expectClose(widen(out['y']), ref, outShape, 0, 0);
      }
    });
  }

  it('sums a symbolic axis into a new symbol, keeps known dims, and names shapes on error', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', ['batch', 'seq', 8]);
    const b = g.input('b', 'float32', ['batch', 3, 8]);
    const c = g.input('c', 'float32', [2, 4, 8]);
    const y = Concat([a, b], 1);
    expect(y.shape[0]).toBe('batch');
    expect(typeof y.shape[1]).toBe('string');
    expect(y.shape[1]).not.toBe('seq');
    expect(Concat([b, c], 1).shape).toEqual([2, 7, 8]);
    expect(Concat([a, a], -1).shape).toEqual(['batch', 'seq', 16]);
    expect(() => Concat([b, g.input('d', 'float32', [2, 3, 9])], 1)).toThrow(/Concat: dim 2 differs \(8 vs 9\) outside axis 1.*\[batch, 3, 8\], \[2, 3, 9\]/);
    expect(() => Concat([b, g.input('e', 'float32', [3, 8])], 0)).toThrow(/Concat: inputs must share a rank/);
    expect(() => Concat([b], 3)).toThrow(/Concat: axis 3 is out of range for rank 3/);
    expect(() => Concat([], 0)).toThrow(/Concat: needs at least one input/);
  });
});

describe('Split', () => {
  // [opset, split argument, axis, expected part sizes along axis] on a [3, 5, 7] input.
  const cases: [number, number | number[], number, number[]][] = [
    [17, [1, 4], 1, [1, 4]],
    [18, [2, 0, 5], -1, [2, 0, 5]],
    [17, 3, 2, [3, 3, 1]],
    [18, 3, 2, [3, 3, 1]],
    [18, 2, 1, [3, 2]],
    [17, 3, 0, [1, 1, 1]],
  ];
  for (const dtype of ['float32', 'float16'] as const) {
    it(`${dtype}: sizes and part counts at opsets 17 and 18`, async () => {
      for (const [ci, [opset, split, axis, sizes]] of cases.entries()) {
        const g = new Graph({ opset });
        const x = g.input('x', dtype, [3, 5, 7]);
        const parts = Split(x, split, axis);
        const ax = axis < 0 ? axis + 3 : axis;
        expect(parts.map((p) => p.shape[ax])).toEqual(sizes);
        parts.forEach((p, i) => g.output(p, `y${i}`));
        const xv = roundedF16(randomTensor([3, 5, 7], 40 + ci));
        const out = await runGraph(g, { x: dtype === 'float16' ? toF16(xv) : xv });
        let from = 0;
        sizes.forEach((s, i) => {
          const shape = [3, 5, 7].map((d, a) => (a === ax ? s : d));
          expectClose(widen(out[`y${i}`]), take(xv, ax, from, s), shape, 0, 0);
          from += s;
        });
      }
    });
  }

  it('splits a symbolic dim into equal symbolic parts and checks sizes against known dims', async () => {
    for (const opset of [17, 18]) {
      const g = new Graph({ opset });
      const x = g.input('x', 'float32', [2, 'n']);
      const [a, b] = Split(x, 2, 1);
      expect(a!.shape[0]).toBe(2);
      expect(typeof a!.shape[1]).toBe('string');
      expect(a!.shape[1]).not.toBe(b!.shape[1]);
      g.output(a!, 'a');
      g.output(b!, 'b');
      const xv = randomTensor([2, 6], 50);
      const out = await runGraph(g, { x: xv });
      expectClose(out['a'], take(xv, 1, 0, 3), [2, 3], 0, 0);
      expectClose(out['b'], take(xv, 1, 3, 3), [2, 3], 0, 0);
    }
    const g = new Graph();
    const x = g.input('x', 'float32', [3, 5, 7]);
    expect(() => Split(x, [2, 2], 1)).toThrow(/Split: sizes \[2, 2\] add up to 4, not dim 1 = 5.*\[3, 5, 7\]/);
    expect(() => Split(x, 4, 0)).toThrow(/Split: cannot split dim 3 into 4 non-empty parts/);
    expect(() => Split(x, 2, 3)).toThrow(/Split: axis 3 is out of range for rank 3/);
  });
});
