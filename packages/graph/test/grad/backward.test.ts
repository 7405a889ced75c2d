import { describe, expect, it } from 'vitest';
import { Tensor } from '@sdxs/tensor';
import { Add, attention, Clip, Gemm, Graph, grad, MatMul, Mul, ReduceMean, ReduceSum, Relu, stopGradient, Sub, Tanh, type Value } from '@sdxs/graph';
import { expectClose, randomTensor, runGraph } from '../harness.js';
import { f32 } from './_check.js';

/** Row-major [r, c] matrix helpers for the hand-written reference. */
const at = (t: Tensor, r: number, c: number, cols: number): number => Number(t.data[r * cols + c]);

describe('grad: end to end', () => {
  it('a 2-layer MLP (MatMul + Add, ReLU, Gemm as nn.Linear, mean squared error) matches gradients derived by hand', async () => {
    const [n, i, h, o] = [4, 3, 5, 2];
    for (const batch of [n, 'batch'] as const) {
      const g = new Graph();
      const x = g.input('x', 'float32', [batch, i]);
      const t = g.input('t', 'float32', [batch, o]);
      const w1 = g.parameter('fc1.weight', 'float32', [i, h]);
      const b1 = g.parameter('fc1.bias', 'float32', [h]);
      const w2 = g.parameter('fc2.weight', 'float32', [o, h]);
      const b2 = g.parameter('fc2.bias', 'float32', [o]);
      const data = { w1: randomTensor([i, h], 1), b1: randomTensor([h], 2), w2: randomTensor([o, h], 3), b2: randomTensor([o], 4) };
      g.bind('fc1.weight', data.w1);
      g.bind('fc1.bias', data.b1);
      g.bind('fc2.weight', data.w2);
      g.bind('fc2.bias', data.b2);
      const out = Gemm(Relu(Add(MatMul(x, w1), b1)), w2, b2, { transB: true });
      const diff = Sub(out, t);
      const loss = ReduceMean(Mul(diff, diff), undefined, false);
      const grads = grad(loss, [w1, b1, w2, b2, x]);
      ['dw1', 'db1', 'dw2', 'db2', 'dx'].forEach((name, k) => g.output(grads[k]!, name));
      const xv = randomTensor([n, i], 5);
      const tv = randomTensor([n, o], 6);
      const res = await runGraph(g, { x: xv, t: tv });

      // Forward and backward by hand, in float64.
      const z1 = Array.from({ length: n * h }, (_, k) => {
        const [r, c] = [Math.floor(k / h), k % h];
        let s = data.b1.data[c]!;
        for (let j = 0; j < i; j++) s += at(xv, r, j, i) * at(data.w1, j, c, h);
        return s;
      });
      const hid = z1.map((z) => Math.max(z, 0));
      const dout = Array.from({ length: n * o }, (_, k) => {
        const [r, c] = [Math.floor(k / o), k % o];
        let s = data.b2.data[c]!;
        for (let j = 0; j < h; j++) s += hid[r * h + j]! * at(data.w2, c, j, h);
        return (2 * (s - tv.data[k]!)) / (n * o);
      });
      const dw2 = Array.from({ length: o * h }, (_, k) => {
        const [c, j] = [Math.floor(k / h), k % h];
        let s = 0;
        for (let r = 0; r < n; r++) s += dout[r * o + c]! * hid[r * h + j]!;
        return s;
      });
      const db2 = Array.from({ length: o }, (_, c) => dout.filter((_, k) => k % o === c).reduce((a, b) => a + b, 0));
      const dz1 = Array.from({ length: n * h }, (_, k) => {
        const [r, j] = [Math.floor(k / h), k % h];
        let s = 0;
        for (let c = 0; c < o; c++) s += dout[r * o + c]! * at(data.w2, c, j, h);
        return z1[k]! > 0 ? s : 0;
      });
      const dw1 = Array.from({ length: i * h }, (_, k) => {
        const [j, c] = [Math.floor(k / h), k % h];
        let s = 0;
        for (let r = 0; r < n; r++) s += at(xv, r, j, i) * dz1[r * h + c]!;
        return s;
      });
      const db1 = Array.from({ length: h }, (_, c) => dz1.filter((_, k) => k % h === c).reduce((a, b) => a + b, 0));
      const dx = Array.from({ length: n * i }, (_, k) => {
        const [r, j] = [Math.floor(k / i), k % i];
        let s = 0;
        for (let c = 0; c < h; c++) s += dz1[r * h + c]! * at(data.w1, j, c, h);
        return s;
      });
      // Float32 sums of a few O(1) terms: 1e-6 absolute + 1e-5 relative is a few ulps of the largest term.
      expectClose(res['dw1'], dw1, [i, h], 1e-6, 1e-5);
      expectClose(res['db1'], db1, [h], 1e-6, 1e-5);
      expectClose(res['dw2'], dw2, [o, h], 1e-6, 1e-5);
      expectClose(res['db2'], db2, [o], 1e-6, 1e-5);
      expectClose(res['dx'], dx, [n, i], 1e-6, 1e-5);
    }
  });
});

describe('grad: the backward pass', () => {
  /** Run a one-input graph whose outputs are built by `build`. */
  async function run(shape: number[], values: number[], build: (x: Value) => Record<string, Value>): Promise<Record<string, number[]>> {
    const g = new Graph();
    const x = g.input('x', 'float32', shape);
    for (const [name, v] of Object.entries(build(x))) g.output(v, name);
    const out = await runGraph(g, { x: f32(shape, values) });
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, [...t.data].map(Number)]));
  }

  it('accumulates the cotangents of a value read several times; the default seed is ones', async () => {
    const out = await run([3], [1, -2, 0.5], (x) => ({ dx: grad(Add(Mul(x, x), x), [x])[0]! }));
    expect(out['dx']).toEqual([3, -3, 2]);
  });

  it('stopGradient blocks the gradient but not the value', async () => {
    const out = await run([3], [1, -2, 0.5], (x) => {
      const y = Mul(x, stopGradient(x));
      return { y, dx: grad(y, [x])[0]! };
    });
    expect(out['y']).toEqual([1, 4, 0.25]);
    expect(out['dx']).toEqual([1, -2, 0.5]);
  });

  it('gives zeros for values the loss does not depend on, the seed for the loss itself, and gradients at intermediate values', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2]);
    const unused = g.input('u', 'float32', [2, 3]);
    const seed = g.input('s', 'float32', [2]);
    const hidden = Mul(x, 2);
    const y = Mul(hidden, hidden);
    const [du, dy, dh, dx] = grad(y, [unused, y, hidden, x], { seed });
    [du, dy, dh, dx].forEach((v, i) => g.output(v!, `g${i}`));
    const out = await runGraph(g, { x: f32([2], [1, -3]), u: randomTensor([2, 3], 1), s: f32([2], [1, 0.5]) });
    expect([...out['g0']!.data]).toEqual([0, 0, 0, 0, 0, 0]);
    expect([...out['g1']!.data]).toEqual([1, 0.5]);
    expect([...out['g2']!.data]).toEqual([4, -6]); // 2h·s, h = 2x
    expect([...out['g3']!.data]).toEqual([8, -12]); // 8x·s
  });

  it('differentiates float16 graphs', async () => {
    const g = new Graph();
    const x = g.input('x', 'float16', [4]);
    const w = g.input('w', 'float16', [4]);
    const [dw] = grad(ReduceSum(Mul(Tanh(x), w), undefined, false), [w]);
    g.output(dw!, 'dw');
    const xs = new Tensor('float16', [4], Uint16Array.from([0x3c00, 0xbc00, 0x0000, 0x3800])); // 1, −1, 0, 0.5
    const out = await runGraph(g, { x: xs, w: new Tensor('float16', [4], new Uint16Array(4)) });
    expect(out['dw']!.dtype).toBe('float16');
    // tanh(1) = 0.76159 rounds to float16 0x3a18 (0.76172); tanh(0.5) = 0.46212 to 0x3765 (0.46216).
    expect([...out['dw']!.data]).toEqual([0x3a18, 0xba18, 0x0000, 0x3765]);
  });

  it('refuses fused contrib nodes without a rule, naming the lowering to use', () => {
    const g = new Graph({ lowering: { attention: 'contrib-mha' } });
    const q = g.input('q', 'float32', [1, 4, 8]);
    expect(() => grad(attention(q, q, q, { heads: 2 }), [q])).toThrow(/com\.microsoft\.MultiHeadAttention.*attention: 'decomposed'/);
  });

  it('refuses ops without a rule and inputs a rule does not differentiate', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [3]);
    const [y] = g.addNode({ opType: 'Softplus', inputs: [x], outputs: [{ dtype: 'float32', shape: [3] }] });
    expect(() => grad(y!, [x])).toThrow(/no gradient rule for Softplus/);
    const lo = g.input('lo', 'float32', []);
    expect(() => grad(Clip(x, lo), [lo])).toThrow(/Clip .* no gradient with respect to its input 1/);
  });

  it('refuses to sum a cotangent back over a symbolic dim that may or may not have been broadcast', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['n', 3]);
    const y = g.input('y', 'float32', ['m', 3]);
    expect(() => grad(Add(x, y), [y])).toThrow(/cannot tell whether \[m, 3\] was broadcast to \[n, 3\]/);
  });

  it('refuses a loss from another graph and a seed of the wrong shape', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [3]);
    const other = new Graph().input('y', 'float32', [3]);
    expect(() => grad(other, [x])).toThrow(/another graph/);
    expect(() => grad(x, [x], { seed: g.input('s', 'float32', [4]) })).toThrow(/seed/);
  });
});
