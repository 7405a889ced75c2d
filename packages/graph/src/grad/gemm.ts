import { Gemm } from '../ops/gemm.js';
import { Mul } from '../ops/mul.js';
import { reduceToShape } from './_reduce-to-shape.js';
import { inputAt, type GradFn } from './_rule.js';
import { attrOr } from './_util.js';

/**
 * Y = α·A'·B' + β·C with A' = Aᵀ if transA (likewise B'). dA' = α·dy·B'ᵀ and dB' = α·A'ᵀ·dy, each written as
 * one Gemm whose trans flags undo the forward ones; dC = β·dy summed back to C's shape.
 */
export const gemmGrad: GradFn = (args) => {
  const { node, dy } = args;
  const [a, b] = [inputAt(args, 0), inputAt(args, 1)];
  const alpha = attrOr(node, 'alpha', 'float', 1);
  const beta = attrOr(node, 'beta', 'float', 1);
  const transA = attrOr(node, 'transA', 'int', 0) !== 0;
  const transB = attrOr(node, 'transB', 'int', 0) !== 0;
  return [
    // A = dy·B'ᵀ, or for transA its transpose B'·dyᵀ.
    () => (transA ? Gemm(b, dy, undefined, { alpha, transA: transB, transB: true }) : Gemm(dy, b, undefined, { alpha, transB: !transB })),
    // B = A'ᵀ·dy, or for transB its transpose dyᵀ·A'.
    () => (transB ? Gemm(dy, a, undefined, { alpha, transA: true, transB: transA }) : Gemm(a, dy, undefined, { alpha, transA: !transA })),
    () => {
      const dc = reduceToShape(dy, inputAt(args, 2));
      return beta === 1 ? dc : Mul(dc, beta);
    },
  ];
};
