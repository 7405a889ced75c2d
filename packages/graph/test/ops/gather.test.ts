import { describe, expect, it } from 'vitest';
import { Gather, Graph } from '@sdxs/graph';
import { shapeSize, stridesOf, Tensor } from '@sdxs/tensor';
import { expectClose, randomTensor, runGraph } from '../harness.js';
import { roundedF16, toF16, widen } from './f16.js';
import { randomInts, unravel } from './ref.js';

/** numpy.take(x, indices, axis) with negative indices wrapping. */
function takeRef(x: Tensor<'float32'>, indices: readonly number[], indShape: readonly number[], axis: number): { data: number[]; shape: number[] } {
  const shape = [...x.shape.slice(0, axis), ...indShape, ...x.shape.slice(axis + 1)];
  const st = stridesOf(x.shape);
  const data = Array.from({ length: shapeSize(shape) }, (_, o) => {
    const idx = unravel(o, shape);
    const before = idx.slice(0, axis);
    const ind = idx.slice(axis, axis + indShape.length);
    const after = idx.slice(axis + indShape.length);
    let k = indices[ind.reduce((p, v, a) => p * indShape[a]! + v, 0)]!;
    if (k < 0) k += x.shape[axis]!;
    return x.data[[...before, k, ...after].reduce((p, v, a) => p + v * st[a]!, 0)]!;
  });
  return { data, shape };
}

describe('Gather', () => {
  for (const dtype of ['float32', 'float16'] as const) {
    it(`${dtype}: int64 and int32 index tensors with negative indices, every axis`, async () => {
      const xs = [3, 5, 7];
      for (const axis of [0, 1, 2, -1]) {
        const ax = (axis + 3) % 3;
        for (const idxType of ['int64', 'int32'] as const) {
          const g = new Graph();
          const x = g.input('x', dtype, xs);
          const ind = g.input('i', idxType, [2, 3]);
          const y = Gather(x, ind, axis);
          g.output(y, 'y');
          const d = xs[ax]!;
          const iv = randomInts([2, 3], 80 + ax, -d, d - 1);
          const list = Array.from(iv.data, Number);
          const feed = idxType === 'int64' ? iv : new Tensor('int32', [2, 3], Int32Array.from(list));
          const xv = roundedF16(randomTensor(xs, 90 + ax));
          const ref = takeRef(xv, list, [2, 3], ax);
          expect(y.shape).toEqual(ref.shape);
          const out = await runGraph(g, { x: dtype === 'float16' ? toF16(xv) : xv, i: feed });
          expectClose(widen(out['y']), ref.data, ref.shape, 0, 0);
        }
      }
    });
  }

  it('takes constant indices: a scalar removes the axis, a list keeps it', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 5, 7]);
    const last = Gather(x, -1, 1);
    const some = Gather(x, [4, -7, 0], 2);
    expect(last.shape).toEqual(['batch', 7]);
    expect(some.shape).toEqual(['batch', 5, 3]);
    g.output(last, 'last');
    g.output(some, 'some');
    const xv = randomTensor([2, 5, 7], 95);
    const out = await runGraph(g, { x: xv });
    const r1 = takeRef(xv, [-1], [], 1);
    const r2 = takeRef(xv, [4, -7, 0], [3], 2);
    expectClose(out['last'], r1.data, [2, 7], 0, 0);
    expectClose(out['some'], r2.data, [2, 5, 3], 0, 0);
  });

  it('keeps symbolic index dims and names the op and shapes on bad input', () => {
    const g = new Graph();
    const table = g.input('table', 'float32', [49408, 768]);
    const ids = g.input('ids', 'int64', ['batch', 77]);
    expect(Gather(table, ids).shape).toEqual(['batch', 77, 768]);
    expect(() => Gather(table, g.input('f', 'float32', [3]))).toThrow(/Gather: indices must be int32 or int64, got float32.*\[49408, 768\], \[3\]/);
    expect(() => Gather(table, 3, 2)).toThrow(/Gather: axis 2 is out of range for rank 2/);
    expect(() => Gather(table, [0, 768], 1)).toThrow(/Gather: index 768 is out of range for dim 1 = 768.*\[49408, 768\]/);
    expect(() => Gather(table, -769, 1)).toThrow(/Gather: index -769 is out of range/);
  });
});
