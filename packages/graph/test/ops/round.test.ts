import { describe, expect, it } from 'vitest';
import { Graph, Round } from '@sdxs/graph';
import { Tensor } from '@sdxs/tensor';
import { runGraph } from '../harness.js';

/** numpy's round: nearest integer, halves to even. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d !== 0.5) return Math.round(v);
  return f % 2 === 0 ? f : f + 1;
}

describe('Round', () => {
  it('rounds halves to even, like numpy, and keeps the shape', async () => {
    const values = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999997, 1.2, -1.7, 254.5, 255.49, 3];
    const g = new Graph();
    const x = g.input('x', 'float32', [3, 4]);
    const y = Round(x);
    expect(y.shape).toEqual([3, 4]);
    g.output(y, 'y');
    const { y: out } = await runGraph(g, { x: new Tensor('float32', [3, 4], Float32Array.from(values)) });
    // `+ 0` folds -0 into 0: ONNX and numpy both give -0 for -0.5; only the value is compared.
    expect(out!.toArray().map((v) => v + 0)).toEqual(Array.from(Float32Array.from(values), (v) => roundHalfEven(v) + 0));
  });

  it('refuses integer input with the op named', () => {
    const g = new Graph();
    expect(() => Round(g.input('i', 'int64', [2]))).toThrow(/^Round: /);
  });
});
