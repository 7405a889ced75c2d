import { describe, it } from 'vitest';
import { Abs, Add, Cos, Div, Erf, Exp, Identity, Log, Mul, Neg, Pow, Reciprocal, Relu, Sigmoid, Sin, Sqrt, Sub, Tanh } from '@sdxs/graph';
import { randomTensor } from '../harness.js';
import { awayFromZero, checkGrad } from './_check.js';

// Broadcasting pairs: equal shapes, a trailing vector, size-1 axes on both sides, a scalar, and odd sizes.
const pairs: [number[], number[]][] = [
  [[3, 5], [3, 5]],
  [[2, 3, 5], [5]],
  [[4, 1, 3], [1, 5, 1]],
  [[3, 7], []],
  [[1], [2, 3]],
];

describe('grad: binary elementwise (broadcast gradients summed back)', () => {
  for (const [name, op] of [
    ['Add', Add],
    ['Sub', Sub],
    ['Mul', Mul],
  ] as const) {
    it(name, async () => {
      for (const [i, [a, b]] of pairs.entries()) await checkGrad({ inputs: { a: { shape: a }, b: { shape: b } }, build: (v) => op(v['a']!, v['b']!), seed: i });
    });
  }

  it('Div (denominator kept away from 0)', async () => {
    for (const [i, [a, b]] of pairs.entries()) {
      await checkGrad({ inputs: { a: { shape: a }, b: { shape: b, data: awayFromZero(b, 40 + i, 0.5, 1.5) } }, build: (v) => Div(v['a']!, v['b']!), seed: i });
    }
  });

  it('Pow with a constant exponent, and with a differentiated exponent on a positive base', async () => {
    await checkGrad({ inputs: { a: { shape: [3, 4] } }, build: (v) => Pow(v['a']!, 2) });
    await checkGrad({ inputs: { a: { shape: [3, 4], data: randomTensor([3, 4], 5, 0.5, 2) } }, build: (v) => Pow(v['a']!, -1.5) });
    await checkGrad({
      inputs: { a: { shape: [2, 3, 4], data: randomTensor([2, 3, 4], 6, 0.5, 2) }, b: { shape: [4] } },
      build: (v) => Pow(v['a']!, v['b']!),
    });
  });
});

describe('grad: unary elementwise', () => {
  const shape = [3, 2, 5];
  const cases: [string, (x: Parameters<typeof Neg>[0]) => ReturnType<typeof Neg>, ReturnType<typeof randomTensor>?, number?][] = [
    ['Neg', Neg],
    ['Identity', Identity],
    ['Exp', Exp],
    ['Erf', Erf],
    ['Tanh', Tanh],
    ['Sigmoid', Sigmoid],
    ['Cos', Cos],
    ['Sin', Sin],
    ['Sqrt', Sqrt, randomTensor(shape, 1, 0.2, 2)],
    ['Log', Log, randomTensor(shape, 2, 0.2, 2)],
    ['Reciprocal', Reciprocal, awayFromZero(shape, 3, 0.3, 1.5)],
    // Kinks at 0: inputs at least 0.1 away, steps of 1e-3.
    ['Relu', Relu, awayFromZero(shape, 4), 1e-3],
    ['Abs', Abs, awayFromZero(shape, 5), 1e-3],
  ];
  for (const [name, op, data, eps] of cases) {
    it(name, async () => {
      await checkGrad({ inputs: { x: { shape, ...(data ? { data } : {}) } }, build: (v) => op(v['x']!), ...(eps ? { eps } : {}) });
    });
  }
});
