import { describe, expect, it } from 'vitest';
import { Add, Conv, Graph, GraphError, MatMul, Reshape, Transpose, dumpGraph, toOnnx } from '@sdxs/graph';
import { Tensor } from '@sdxs/tensor';
import { expectClose, randomTensor, runGraph } from './harness.js';

describe('graph core', () => {
  it('adds with broadcasting and a number operand, and runs in onnxruntime', async () => {
    const g = new Graph();
    const a = g.input('a', 'float32', ['batch', 3]);
    const b = g.input('b', 'float32', [3]);
    g.output(Add(Add(a, b), 0.5), 'y');
    const av = randomTensor([2, 3], 1);
    const bv = randomTensor([3], 2);
    const { y } = await runGraph(g, { a: av, b: bv });
    const ref = Array.from(av.data, (v, i) => Math.fround(Math.fround(v + bv.data[i % 3]!) + 0.5));
    expectClose(y, ref, [2, 3], 0, 0);
  });

  it('names the op and shapes in shape errors', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [2, 3]);
    const b = g.input('b', 'float32', [4, 5]);
    expect(() => MatMul(a, b)).toThrow(GraphError);
    expect(() => MatMul(a, b)).toThrow(/MatMul: inner dims differ \(3 vs 4\).*\[2, 3\], \[4, 5\]/);
    expect(() => Add(a, b)).toThrow(/Add: cannot broadcast \[2, 3\] with \[4, 5\]/);
    expect(() => Reshape(a, [4, -1])).toThrow(/Reshape: cannot reshape/);
    expect(() => Transpose(a, [0, 0])).toThrow(/not a permutation/);
  });

  it('refuses to serialize unbound parameters, listing them', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [1, 2]);
    const w = g.parameter('layer.weight', 'float32', [2, 2]);
    g.output(MatMul(x, w));
    expect(() => toOnnx(g)).toThrow(/parameters without data: layer\.weight/);
    expect(() => g.bind('layer.weight', Tensor.zeros('float32', [3, 2]))).toThrow(/expected float32\[2, 2\]/);
    g.bind('layer.weight', Tensor.zeros('float32', [2, 2]));
    expect(toOnnx(g).length).toBeGreaterThan(0);
  });

  it('runs a conv with a bound parameter and dumps readable text', async () => {
    const g = new Graph({ name: 'convtest' });
    const x = g.input('x', 'float32', [1, 2, 5, 5]);
    const w = g.parameter('conv.weight', 'float32', [3, 2, 3, 3]);
    const y = Conv(x, w, undefined, { pads: [1, 1, 1, 1] });
    expect(y.shape).toEqual([1, 3, 5, 5]);
    g.output(y, 'y');
    const wv = randomTensor([3, 2, 3, 3], 7);
    g.bind('conv.weight', wv);
    const xv = randomTensor([1, 2, 5, 5], 8);
    const out = await runGraph(g, { x: xv });
    const ref: number[] = [];
    for (let m = 0; m < 3; m++)
      for (let i = 0; i < 5; i++)
        for (let j = 0; j < 5; j++) {
          let s = 0;
          for (let c = 0; c < 2; c++)
            for (let ki = 0; ki < 3; ki++)
              for (let kj = 0; kj < 3; kj++) {
                const ii = i + ki - 1;
                const jj = j + kj - 1;
                if (ii < 0 || jj < 0 || ii >= 5 || jj >= 5) continue;
                s += xv.data[c * 25 + ii * 5 + jj]! * wv.data[((m * 2 + c) * 3 + ki) * 3 + kj]!;
              }
          ref.push(s);
        }
    expectClose(out.y, ref, [1, 3, 5, 5], 1e-5, 1e-5);
    const text = dumpGraph(g);
    expect(text).toContain('init   conv.weight: float32[3, 2, 3, 3] inline');
    expect(text).toMatch(/= Conv\(x, conv\.weight\) \{kernel_shape=\[3, 3\]/);
  });
});
