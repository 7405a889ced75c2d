import { describe, expect, it } from 'vitest';
import { Tensor } from '@sdxs/tensor';
import { Cast, Clip, Equal, Graph, grad, Max, Min, Mul, ReduceMax, ReduceMean, ReduceSum, Where } from '@sdxs/graph';
import { runGraph } from '../harness.js';
import { awayFromZero, checkGrad, f32 } from './_check.js';

describe('grad: reductions', () => {
  for (const [name, op] of [
    ['ReduceSum', ReduceSum],
    ['ReduceMean', ReduceMean],
  ] as const) {
    it(`${name}: some axes kept, some dropped, all`, async () => {
      const inputs = { x: { shape: [2, 3, 4] } };
      await checkGrad({ inputs, build: (v) => op(v['x']!, [1]) });
      await checkGrad({ inputs, build: (v) => op(v['x']!, [0, -1], false) });
      await checkGrad({ inputs, build: (v) => op(v['x']!, undefined, false) });
    });
  }
  it('ReduceMean and ReduceSum over a symbolic dim (the count and the shape are read at run time)', async () => {
    const inputs = { x: { shape: [5, 4], declared: ['n', 4] } };
    await checkGrad({ inputs, build: (v) => ReduceMean(v['x']!, [0]), outShape: [1, 4] });
    await checkGrad({ inputs, build: (v) => ReduceSum(v['x']!, [0], false), outShape: [4] });
  });
  it('ReduceMax (distinct values, so the maximum does not switch within ε)', async () => {
    const inputs = { x: { shape: [3, 4, 5], data: distinct([3, 4, 5], 0.05) } };
    await checkGrad({ inputs, build: (v) => ReduceMax(v['x']!, [1]), eps: 1e-3 });
    await checkGrad({ inputs, build: (v) => ReduceMax(v['x']!, [0, 2], false), eps: 1e-3 });
  });
  it('ReduceMax splits the gradient evenly among ties (exact)', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 3]);
    g.output(grad(ReduceMax(x, [1], false), [x])[0]!, 'dx');
    const out = await runGraph(g, { x: f32([2, 3], [1, 3, 3, 2, 0, -1]) });
    expect([...out['dx']!.data]).toEqual([0, 0.5, 0.5, 1, 0, 0]);
  });
});

describe('grad: selections', () => {
  it('Where routes the gradient by the mask (broadcast branches)', async () => {
    const mask = new Tensor('bool', [3, 1], Uint8Array.from([1, 0, 1]));
    await checkGrad({ inputs: { m: { shape: [3, 1], data: mask }, x: { shape: [3, 4] }, y: { shape: [4] } }, build: (v) => Where(v['m']!, v['x']!, v['y']!) });
    // A mask computed from a differentiated value: no gradient flows through the comparison.
    await checkGrad({
      inputs: { x: { shape: [3, 4], data: awayFromZero([3, 4], 3) } },
      build: (v) => Where(Equal(Cast(Cast(Mul(v['x']!, 4), 'int32'), 'float32'), 0), v['x']!, Mul(v['x']!, v['x']!)),
      eps: 1e-3,
    });
  });
  it('Clip passes the gradient inside the bounds only', async () => {
    await checkGrad({ inputs: { x: { shape: [4, 5], data: awayFromZero([4, 5], 9, 0.1, 1) } }, build: (v) => Clip(v['x']!, -0.55, 0.45), eps: 1e-3, seed: 2 });
    await checkGrad({ inputs: { x: { shape: [4, 5] } }, build: (v) => Clip(v['x']!, undefined, 0.3), eps: 1e-3, seed: 3 });
  });
  it('Max and Min of broadcasting operands', async () => {
    const a = distinct([3, 4], 0.05);
    const b = f32([4], [0.31, -0.52, 0.13, 0.77]);
    for (const op of [Max, Min]) {
      await checkGrad({ inputs: { a: { shape: [3, 4], data: a }, b: { shape: [4], data: b } }, build: (v) => op(v['a']!, v['b']!, -0.025), eps: 1e-3 });
    }
  });
  it('Max splits the gradient evenly between tied operands (exact)', async () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [3]);
    const b = g.input('b', 'float32', [3]);
    const [da, db] = grad(Max(a, b), [a, b]);
    g.output(da!, 'da');
    g.output(db!, 'db');
    const out = await runGraph(g, { a: f32([3], [1, 2, 3]), b: f32([3], [1, 5, 0]) });
    expect([...out['da']!.data]).toEqual([0.5, 0, 1]);
    expect([...out['db']!.data]).toEqual([0.5, 1, 0]);
  });
});

/** Values on a grid of step `gap` (shuffled, random signs), so no two are within `gap` of each other. */
function distinct(shape: readonly number[], gap: number): Tensor<'float32'> {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, (_, i) => (i - n / 2) * gap + gap / 3);
  for (let i = n - 1; i > 0; i--) {
    const j = (i * 7919 + 17) % (i + 1);
    [values[i], values[j]] = [values[j]!, values[i]!];
  }
  return f32(shape, values);
}
