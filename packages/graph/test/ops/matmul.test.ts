import { describe, expect, it } from 'vitest';
import { Gemm, Graph, MatMul } from '@sdxs/graph';
import type { Tensor } from '@sdxs/tensor';
import { expectClose, randomTensor, runGraph } from '../harness.js';
import { F16_ATOL, F16_RTOL, roundedF16, toF16, widen } from './f16.js';
import { broadcastAt, unravel } from './ref.js';

/** numpy matmul on row-major data, batch dims broadcast, 1-D operands promoted then squeezed. */
function matmulRef(a: Tensor<'float32'>, b: Tensor<'float32'>): { data: number[]; shape: number[] } {
  const as = a.rank === 1 ? [1, a.shape[0]!] : [...a.shape];
  const bs = b.rank === 1 ? [b.shape[0]!, 1] : [...b.shape];
  const [m, k] = [as[as.length - 2]!, as[as.length - 1]!];
  const n = bs[bs.length - 1]!;
  const ab = as.slice(0, -2);
  const bb = bs.slice(0, -2);
  const rank = Math.max(ab.length, bb.length);
  const batch = Array.from({ length: rank }, (_, i) => Math.max(ab[i - rank + ab.length] ?? 1, bb[i - rank + bb.length] ?? 1));
  const count = batch.reduce((p, d) => p * d, 1);
  const data: number[] = [];
  for (let t = 0; t < count; t++) {
    const idx = unravel(t, batch);
    const ao = broadcastAt(idx, ab) * m * k;
    const bo = broadcastAt(idx, bb) * k * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a.data[ao + i * k + p]! * b.data[bo + p * n + j]!;
        data.push(s);
      }
  }
  const shape = [...batch];
  if (a.rank !== 1) shape.push(m);
  if (b.rank !== 1) shape.push(n);
  return { data, shape };
}

// [a shape, b shape, expected output shape]; inputs lie in [-1, 1].
const cases: [number[], number[], number[]][] = [
  [[3, 5], [5, 7], [3, 7]],
  [[2, 3, 5], [2, 5, 7], [2, 3, 7]],
  [[2, 1, 3, 5], [4, 5, 7], [2, 4, 3, 7]],
  [[3, 5], [2, 5, 7], [2, 3, 7]],
  [[5], [2, 5, 7], [2, 7]],
  [[2, 3, 5], [5], [2, 3]],
  [[5], [5], []],
];

describe('MatMul', () => {
  for (const dtype of ['float32', 'float16'] as const) {
    it(`${dtype}: batched, broadcast batch dims, 1-D operands`, async () => {
      for (const [ci, [as, bs, ys]] of cases.entries()) {
        const g = new Graph();
        const y = MatMul(g.input('a', dtype, as), g.input('b', dtype, bs));
        expect(y.shape).toEqual(ys);
        g.output(y, 'y');
        let av = randomTensor(as, 100 + ci);
        let bv = randomTensor(bs, 200 + ci);
        if (dtype === 'float16') [av, bv] = [roundedF16(av), roundedF16(bv)];
        const ref = matmulRef(av, bv);
        expect(ref.shape).toEqual(ys);
        const out = await runGraph(g, dtype === 'float16' ? { a: toF16(av), b: toF16(bv) } : { a: av, b: bv });
        const k = as[as.length - 1]!;
        if (dtype === 'float32') {
          // Worst-case f32 summation error for K products of magnitude ≤ 1: K·u·Σ|ab| ≤ K²·2^-24.
          expectClose(out['y'], ref.data, ys, k * k * 2 ** -24, 0);
        } else {
          // ORT rounds the f32-accumulated sum to f16 once (checked here: one f16 ulp is enough).
          expectClose(widen(out['y']), ref.data, ys, F16_ATOL, F16_RTOL);
        }
      }
    });
  }

  it('keeps symbolic batch dims and names the op and shapes on bad input', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', ['batch', 'seq', 8]);
    const w = g.input('w', 'float32', [8, 4]);
    expect(MatMul(a, w).shape).toEqual(['batch', 'seq', 4]);
    expect(() => MatMul(g.input('c', 'float32', [2, 3, 5]), g.input('d', 'float32', [4, 5, 7]))).toThrow(
      /MatMul: batch dims do not broadcast: \[2\] vs \[4\]/,
    );
    expect(() => MatMul(a, g.input('e', 'float32', [7, 4]))).toThrow(/MatMul: inner dims differ \(8 vs 7\).*\[batch, seq, 8\], \[7, 4\]/);
  });
});

describe('Gemm', () => {
  // [transA, transB, C shape or undefined, alpha, beta]
  const variants: [boolean, boolean, number[] | undefined, number, number][] = [
    [false, false, undefined, 1, 1],
    [false, true, [7], 1, 1],
    [true, false, [3, 1], 0.5, 2],
    [true, true, [3, 7], -1.5, 0.25],
    [false, false, [], 1, -1],
  ];
  for (const dtype of ['float32', 'float16'] as const) {
    it(`${dtype}: transA/transB, alpha/beta, C broadcast to [M, N]`, async () => {
      for (const [vi, [ta, tb, cs, alpha, beta]] of variants.entries()) {
        const [m, k, n] = [3, 5, 7];
        const g = new Graph();
        const a = g.input('a', dtype, ta ? [k, m] : [m, k]);
        const b = g.input('b', dtype, tb ? [n, k] : [k, n]);
        const c = cs ? g.input('c', dtype, cs) : undefined;
        const y = Gemm(a, b, c, { transA: ta, transB: tb, alpha, beta });
        expect(y.shape).toEqual([m, n]);
        g.output(y, 'y');
        let av = randomTensor(a.shape.map(Number), 300 + vi);
        let bv = randomTensor(b.shape.map(Number), 400 + vi);
        let cv = cs ? randomTensor(cs, 500 + vi) : undefined;
        if (dtype === 'float16') [av, bv, cv] = [roundedF16(av), roundedF16(bv), cv && roundedF16(cv)];
        const ref: number[] = [];
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let p = 0; p < k; p++) s += av.data[ta ? p * m + i : i * k + p]! * bv.data[tb ? j * k + p : p * n + j]!;
            const cAt = cv ? cv.data[broadcastAt([i, j], cv.shape)]! : 0;
            ref.push(alpha * s + beta * cAt);
          }
        const feeds: Record<string, Tensor> = dtype === 'float16' ? { a: toF16(av), b: toF16(bv) } : { a: av, b: bv };
        if (cv) feeds['c'] = dtype === 'float16' ? toF16(cv) : cv;
        const out = await runGraph(g, feeds);
        // |alpha·AB + beta·C| terms are ≤ 1.5·5 + 2: f32 error well under 2^-16 absolute.
        if (dtype === 'float32') expectClose(out['y'], ref, [m, n], 2 ** -16, 0);
        else expectClose(widen(out['y']), ref, [m, n], F16_ATOL, F16_RTOL);
      }
    });
  }

  it('infers [M, N] with symbolic M and names the op and shapes on bad input', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 8]);
    const w = g.input('w', 'float32', [4, 8]);
    const bias = g.input('bias', 'float32', [4]);
    expect(Gemm(x, w, bias, { transB: true }).shape).toEqual(['batch', 4]);
    expect(() => Gemm(x, w)).toThrow(/Gemm: inner dims differ \(8 vs 4\).*\[batch, 8\], \[4, 8\]/);
    expect(() => Gemm(x, w, g.input('c', 'float32', [5]), { transB: true })).toThrow(/Gemm: C \[5\] does not broadcast to \[batch, 4\]/);
    expect(() => Gemm(g.input('v', 'float32', [8]), w)).toThrow(/Gemm: A and B must be 2-D/);
  });
});
