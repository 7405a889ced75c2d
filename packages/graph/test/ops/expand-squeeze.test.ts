import { describe, expect, it } from 'vitest';
import { Expand, Graph, Shape, Squeeze, Unsqueeze } from '@sdxs/graph';
import { expectClose, randomTensor, runGraph } from '../harness.js';
import { roundedF16, toF16, widen } from './f16.js';
import { mapBroadcast } from './ref.js';

describe('Expand', () => {
  // [input shape, target shape, output shape]
  const cases: [number[], number[], number[]][] = [
    [[3, 1, 7], [3, 5, 7], [3, 5, 7]],
    [[5, 1], [3, 1, 7], [3, 5, 7]],
    [[1], [2, 3], [2, 3]],
    [[3, 5, 7], [1, 1], [3, 5, 7]],
    [[7], [2, 1, 1], [2, 1, 7]],
  ];
  for (const dtype of ['float32', 'float16'] as const) {
    it(`${dtype}: broadcasts both ways (a 1 in the target keeps the input dim)`, async () => {
      for (const [ci, [xs, target, ys]] of cases.entries()) {
        const g = new Graph();
        const y = Expand(g.input('x', dtype, xs), target);
        expect(y.shape).toEqual(ys);
        g.output(y, 'y');
        const xv = roundedF16(randomTensor(xs, 110 + ci));
        const out = await runGraph(g, { x: dtype === 'float16' ? toF16(xv) : xv });
        expectClose(widen(out['y']), mapBroadcast(ys, [xv], (v) => v), ys, 0, 0);
      }
    });
  }

  it('expands to a shape tensor taken from a symbolic input', async () => {
    const g = new Graph();
    const t = g.input('t', 'float32', [1, 4]);
    const ref = g.input('ref', 'float32', ['batch', 1]);
    const y = Expand(t, Shape(ref));
    expect(y.shape[1]).toBe(4);
    expect(typeof y.shape[0]).toBe('string');
    g.output(y, 'y');
    const tv = randomTensor([1, 4], 120);
    const out = await runGraph(g, { t: tv, ref: randomTensor([3, 1], 121) });
    expectClose(out['y'], [...tv.data, ...tv.data, ...tv.data], [3, 4], 0, 0);
  });

  it('keeps a symbolic dim against a 1 and names the op and shapes on bad input', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 1, 7]);
    expect(Expand(x, [1, 5, 1]).shape).toEqual(['batch', 5, 7]);
    expect(() => Expand(x, [3, 5, 6])).toThrow(/Expand: cannot broadcast \[batch, 1, 7\] to \[3, 5, 6\]/);
    expect(() => Expand(x, [-1, 5, 7])).toThrow(/Expand: invalid shape \[-1, 5, 7\]/);
    expect(() => Expand(x, g.input('s', 'int32', [3]))).toThrow(/Expand: a shape tensor must be 1-D int64/);
  });
});

describe('Unsqueeze and Squeeze', () => {
  for (const dtype of ['float32', 'float16'] as const) {
    it(`${dtype}: axes index the output (Unsqueeze) or the input (Squeeze), negatives included`, async () => {
      const g = new Graph();
      const x = g.input('x', dtype, [3, 5, 7]);
      const u = Unsqueeze(x, [0, -1, 2]);
      expect(u.shape).toEqual([1, 3, 1, 5, 7, 1]);
      const s = Squeeze(u, [-1, 0]);
      expect(s.shape).toEqual([3, 1, 5, 7]);
      const all = Squeeze(u);
      expect(all.shape).toEqual([3, 5, 7]);
      g.output(u, 'u');
      g.output(s, 's');
      g.output(all, 'all');
      const xv = roundedF16(randomTensor([3, 5, 7], 130));
      const out = await runGraph(g, { x: dtype === 'float16' ? toF16(xv) : xv });
      const same = Array.from(xv.data);
      expectClose(widen(out['u']), same, [1, 3, 1, 5, 7, 1], 0, 0);
      expectClose(widen(out['s']), same, [3, 1, 5, 7], 0, 0);
      expectClose(widen(out['all']), same, [3, 5, 7], 0, 0);
    });
  }

  it('carries symbolic dims, squeezes a named symbolic axis, and names the op and shapes on bad input', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['one', 'batch', 4]);
    expect(Unsqueeze(x, [1]).shape).toEqual(['one', 1, 'batch', 4]);
    const y = Squeeze(x, [0]);
    expect(y.shape).toEqual(['batch', 4]);
    g.output(y, 'y');
    const xv = randomTensor([1, 2, 4], 140);
    expectClose((await runGraph(g, { x: xv }))['y'], Array.from(xv.data), [2, 4], 0, 0);
    expect(() => Squeeze(x, [2])).toThrow(/Squeeze: axis 2 has size 4, not 1.*\[one, batch, 4\]/);
    expect(() => Squeeze(x)).toThrow(/Squeeze: without axes the shape must be known, got \[one, batch, 4\]/);
    expect(() => Unsqueeze(x, [4])).toThrow(/Unsqueeze: axis 4 is out of range for rank 4.*\[one, batch, 4\]/);
    expect(() => Unsqueeze(x, [1, -4])).toThrow(/Unsqueeze: axes \[1, -4\] repeat an axis/);
    expect(() => Unsqueeze(x, [])).toThrow(/Unsqueeze: needs at least one axis/);
  });
});
