import { describe, expect, it } from 'vitest';
import { Graph, Slice } from '@sdxs/graph';
import { shapeSize, stridesOf } from '@sdxs/tensor';
import { expectClose, randomTensor, runGraph } from '../harness.js';
import { roundedF16, toF16, widen } from './f16.js';
import { unravel } from './ref.js';

/** The indices Python's `range(len)[start:stop:step]` selects (CPython's PySlice_AdjustIndices). */
function pySlice(len: number, start: number, stop: number, step: number): number[] {
  const adjust = (v: number): number => {
    if (v < 0) {
      v += len;
      if (v < 0) v = step < 0 ? -1 : 0;
    } else if (v >= len) v = step < 0 ? len - 1 : len;
    return v;
  };
  const [s, e] = [adjust(start), adjust(stop)];
  const out: number[] = [];
  for (let i = s; step > 0 ? i < e : i > e; i += step) out.push(i);
  return out;
}

// [starts, ends, axes, steps] on [3, 5, 7]; ±Infinity means "to the end".
const cases: [number[], number[], number[] | undefined, number[] | undefined][] = [
  [[1], [Infinity], [2], undefined],
  [[-1], [-Infinity], [0], [-1]],
  [[-100], [100], [1], undefined],
  [[0, 6], [5, 0], [1, 2], [2, -3]],
  [[1, 0], [3, -1], undefined, undefined],
  [[2], [-2], [-1], [2]],
  [[4], [-100], [1], [-2]],
  [[1, 3], [1, 1], [0, 1], [1, -1]],
  [[10], [20], [2], undefined],
  [[0], [1e19], [1], undefined], // 1e19 > 2^63: would wrap to a negative int64 unclamped
  [[1e19], [-1e19], [2], [-2]],
];

describe('Slice', () => {
  for (const dtype of ['float32', 'float16'] as const) {
    it(`${dtype}: negative bounds, clamping, negative steps, default and negative axes`, async () => {
      const shape = [3, 5, 7];
      for (const [ci, [starts, ends, axes, steps]] of cases.entries()) {
        const g = new Graph();
        const x = g.input('x', dtype, shape);
        const y = Slice(x, starts, ends, axes, steps);
        // Per axis, the selected input indices (all of them on axes not sliced).
        const picks = shape.map((d) => [...Array(d).keys()]);
        starts.forEach((s, i) => {
          const a = axes ? (axes[i]! + 3) % 3 : i;
          picks[a] = pySlice(shape[a]!, s, ends[i]!, steps?.[i] ?? 1);
        });
        const outShape = picks.map((p) => p.length);
        expect(y.shape).toEqual(outShape);
        g.output(y, 'y');
        const xv = roundedF16(randomTensor(shape, 60 + ci));
        const st = stridesOf(shape);
        const ref = Array.from({ length: shapeSize(outShape) }, (_, o) =>
          xv.data[unravel(o, outShape).reduce((p, v, a) => p + picks[a]![v]! * st[a]!, 0)]!,
        );
        const out = await runGraph(g, { x: dtype === 'float16' ? toF16(xv) : xv });
        expectClose(widen(out['y']), ref, outShape, 0, 0);
      }
    });
  }

  it('keeps a symbolic dim sliced whole, gives a new symbol otherwise, and runs with it', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 5, 7]);
    const whole = Slice(x, [0, 1], [Infinity, 4], [0, 1]);
    expect(whole.shape).toEqual(['batch', 3, 7]);
    const part = Slice(x, [1], [Infinity], [0]);
    const rev = Slice(x, [-1], [-Infinity], [0], [-1]);
    expect(typeof part.shape[0]).toBe('string');
    expect(part.shape[0]).not.toBe('batch');
    expect(rev.shape[0]).not.toBe(part.shape[0]);
    g.output(part, 'part');
    g.output(rev, 'rev');
    const xv = randomTensor([4, 5, 7], 70);
    const out = await runGraph(g, { x: xv });
    expectClose(out['part'], Array.from(xv.data).slice(35), [3, 5, 7], 0, 0);
    const revRef = [3, 2, 1, 0].flatMap((b) => Array.from(xv.data.subarray(b * 35, (b + 1) * 35)));
    expectClose(out['rev'], revRef, [4, 5, 7], 0, 0);
  });

  it('names the op and shape on bad input', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [3, 5, 7]);
    expect(() => Slice(x, [0], [1], [0], [0])).toThrow(/Slice: steps must be non-zero integers, got \[0\].*\[3, 5, 7\]/);
    expect(() => Slice(x, [0, 1], [1])).toThrow(/Slice: starts \[0, 1\] and ends \[1\] differ in length/);
    expect(() => Slice(x, [0, 0], [1, 1], [1, -2])).toThrow(/Slice: axes \[1, -2\] repeat an axis.*\[3, 5, 7\]/);
    expect(() => Slice(x, [0], [1], [3])).toThrow(/Slice: axis 3 is out of range for rank 3/);
    expect(() => Slice(x, [0.5], [1])).toThrow(/Slice: bounds must be integers/);
  });
});
