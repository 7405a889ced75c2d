import { describe, expect, it } from 'vitest';
import { Graph, ReduceMax, ReduceMean, ReduceSum, type Value } from '@sdxs/graph';
import { shapeSize, stridesOf, type Tensor } from '@sdxs/tensor';
import { expectClose, randomTensor, runGraph } from '../harness.js';
import { F16_ATOL, F16_RTOL, roundedF16, toF16, widen } from './f16.js';
import { unravel } from './ref.js';

type Reduce = (x: Value, axes?: readonly number[], keepdims?: boolean) => Value;

/** Fold every input element into its output cell (reduced axes collapse to 0). */
function reduceRef(x: Tensor<'float32'>, axes: number[], kind: 'sum' | 'mean' | 'max'): number[] {
  const keptShape = x.shape.map((d, a) => (axes.includes(a) ? 1 : d));
  const st = stridesOf(keptShape);
  const n = shapeSize(keptShape);
  const acc = new Array<number>(n).fill(kind === 'max' ? -Infinity : 0);
  for (let i = 0; i < x.size; i++) {
    const o = unravel(i, x.shape).reduce((p, v, a) => p + (axes.includes(a) ? 0 : v * st[a]!), 0);
    acc[o] = kind === 'max' ? Math.max(acc[o]!, x.data[i]!) : acc[o]! + x.data[i]!;
  }
  const count = x.size / n;
  return kind === 'mean' ? acc.map((v) => v / count) : acc;
}

const ops: [string, Reduce, 'sum' | 'mean' | 'max', number][] = [
  ['ReduceSum', ReduceSum, 'sum', 13],
  ['ReduceMean', ReduceMean, 'mean', 18],
  ['ReduceMax', ReduceMax, 'max', 18],
];

// [axes argument, normalized axes]; undefined and [] reduce everything.
const axesCases: [number[] | undefined, number[]][] = [
  [[1], [1]],
  [[0, -1], [0, 2]],
  [[2, 1], [1, 2]],
  [undefined, [0, 1, 2]],
  [[], [0, 1, 2]],
];

describe('ReduceSum, ReduceMean, ReduceMax', () => {
  for (const [name, op, kind, since] of ops) {
    for (const dtype of ['float32', 'float16'] as const) {
      it(`${name} ${dtype}: axes (attribute or input by opset), keepdims, all axes`, async () => {
        for (const opset of [17, 18]) {
          for (const [ci, [axes, norm]] of axesCases.entries()) {
            for (const keepdims of [true, false]) {
              const g = new Graph({ opset });
              const y = op(g.input('x', dtype, [3, 5, 7]), axes, keepdims);
              const node = g.nodes.at(-1)!;
              const asInput = norm.length < 3 && opset >= since;
              expect(node.inputs.length).toBe(asInput ? 2 : 1);
              expect('axes' in node.attributes).toBe(norm.length < 3 && !asInput);
              const shape = keepdims ? [3, 5, 7].map((d, a) => (norm.includes(a) ? 1 : d)) : [3, 5, 7].filter((_, a) => !norm.includes(a));
              expect(y.shape).toEqual(shape);
              g.output(y, 'y');
              const xv = roundedF16(randomTensor([3, 5, 7], 270 + ci));
              const out = await runGraph(g, { x: dtype === 'float16' ? toF16(xv) : xv });
              const ref = reduceRef(xv, norm, kind);
              if (kind === 'max') expectClose(widen(out['y']), ref, shape, 0, 0);
              else if (dtype === 'float32') {
                // f32 summation of n terms of magnitude ≤ 1: error ≤ n²·2^-24 (divided by n for the mean).
                const n = foldCount(norm);
                expectClose(out['y'], ref, shape, (kind === 'sum' ? n * n : n) * 2 ** -24, 0);
              } else {
                // ORT has no f16 reduce kernels on CPU: it casts to f32, reduces and rounds once to f16.
                expectClose(widen(out['y']), ref, shape, F16_ATOL, F16_RTOL);
              }
            }
          }
        }
      });
    }
  }

  it('keeps symbolic dims that are not reduced, and names the op and shape on bad axes', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 'seq', 8]);
    expect(ReduceMean(x, [-1]).shape).toEqual(['batch', 'seq', 1]);
    expect(ReduceSum(x, [1], false).shape).toEqual(['batch', 8]);
    expect(ReduceMax(x, undefined, false).shape).toEqual([]);
    expect(() => ReduceSum(x, [3])).toThrow(/ReduceSum: axis 3 is out of range for rank 3.*\[batch, seq, 8\]/);
    expect(() => ReduceMean(x, [1, -2])).toThrow(/ReduceMean: axes \[1, -2\] repeat an axis/);
    expect(() => ReduceMax(g.input('b', 'bool', [2]))).toThrow(/ReduceMax: bool tensors cannot be reduced/);
  });
});

/** Number of input elements folded into each output cell of a [3, 5, 7] input reduced over `axes`. */
function foldCount(axes: number[]): number {
  return axes.reduce((p, a) => p * [3, 5, 7][a]!, 1);
}
