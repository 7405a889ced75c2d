import { describe, it } from 'vitest';
import { Gemm, MatMul } from '@sdxs/graph';
import { checkGrad } from './_check.js';

describe('grad: MatMul', () => {
  // [a, b]: plain, batched with broadcast batch dims on both sides, and numpy's 1-D promotions.
  const cases: [number[], number[]][] = [
    [[3, 4], [4, 5]],
    [[2, 1, 3, 4], [3, 4, 2]],
    [[5, 3, 4], [4, 2]],
    [[4], [2, 4, 3]],
    [[2, 3, 4], [4]],
    [[4], [4]],
  ];
  for (const [i, [a, b]] of cases.entries()) {
    it(`[${a}] @ [${b}]`, async () => {
      await checkGrad({ inputs: { a: { shape: a }, b: { shape: b } }, build: (v) => MatMul(v['a']!, v['b']!), seed: i });
    });
  }
});

describe('grad: Gemm', () => {
  for (const transA of [false, true])
    for (const transB of [false, true]) {
      it(`transA ${transA}, transB ${transB}, alpha 0.7, beta 1.3, C broadcast from [N] and [M, 1]`, async () => {
        const [m, k, n] = [3, 4, 5];
        const a = transA ? [k, m] : [m, k];
        const b = transB ? [n, k] : [k, n];
        for (const c of [[n], [m, 1]]) {
          await checkGrad({
            inputs: { a: { shape: a }, b: { shape: b }, c: { shape: c } },
            build: (v) => Gemm(v['a']!, v['b']!, v['c'], { transA, transB, alpha: 0.7, beta: 1.3 }),
          });
        }
      });
    }
  it('without C', async () => {
    await checkGrad({ inputs: { a: { shape: [2, 3] }, b: { shape: [4, 3] } }, build: (v) => Gemm(v['a']!, v['b']!, undefined, { transB: true }) });
  });
});
