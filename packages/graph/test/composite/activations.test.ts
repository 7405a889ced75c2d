import { describe, expect, it } from 'vitest';
import { Graph, IMPLS, dumpGraph, gelu, quickGelu, silu, type GeluApproximation, type Value } from '@sdxs/graph';
import type { Tensor } from '@sdxs/tensor';
import { randomTensor } from '../harness.js';
import { HALF_ULP, erf, expectNear, run, sigmoid, toHalf, valuesOf } from './_ref.js';

const shape = [3, 5, 7];

const geluRef = (approx: GeluApproximation) => (x: number) =>
  approx === 'erf' ? 0.5 * x * (1 + erf(x / Math.SQRT2)) : 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

async function check(build: (x: Value) => Value, ref: (x: number) => number, dtype: 'float32' | 'float16', lowering: ConstructorParameters<typeof Graph>[0]): Promise<void> {
  const g = new Graph(lowering);
  g.output(build(g.input('x', dtype, ['n', 5, 7])), 'y');
  const x32 = randomTensor(shape, 31, -4, 4);
  const x: Tensor = dtype === 'float16' ? toHalf(x32) : x32;
  const expected = valuesOf(x).map(ref);
  // Near 0 the outputs are tiny, so a small absolute term; elsewhere relative error dominates.
  const [atol, rtol] = dtype === 'float32' ? [1e-6, 1e-5] : [HALF_ULP * 2 ** -4, 2 * HALF_ULP];
  for (const level of ['disabled', 'all'] as const) expectNear((await run(g, { x }, level)).y, expected, shape, atol, rtol);
}

describe('gelu', () => {
  for (const impl of IMPLS.gelu) {
    for (const approx of ['erf', 'tanh'] as const) {
      for (const dtype of ['float32', 'float16'] as const) {
        it(`${impl} ${approx} ${dtype} matches torch.nn.functional.gelu`, async () => {
          await check((x) => gelu(x, approx), geluRef(approx), dtype, { lowering: { gelu: impl }, opset: impl === 'onnx20' ? 20 : 17 });
        });
      }
    }
  }

  it('emits the node each implementation names', () => {
    const ops = (impl: (typeof IMPLS.gelu)[number], approx: GeluApproximation) => {
      const g = new Graph({ lowering: { gelu: impl }, opset: 20 });
      g.output(gelu(g.input('x', 'float32', [2]), approx));
      return dumpGraph(g);
    };
    expect(ops('formula', 'erf')).toMatch(/= Erf\(/);
    expect(ops('formula', 'tanh')).toMatch(/= Tanh\(/);
    expect(ops('contrib', 'erf')).toMatch(/= com\.microsoft\.Gelu\(x\)/);
    expect(ops('contrib', 'tanh')).toMatch(/= com\.microsoft\.FastGelu\(x\)/);
    expect(ops('onnx20', 'tanh')).toMatch(/= Gelu\(x\) \{approximate="tanh"\}/);
  });

  it('refuses the opset-20 Gelu in an opset-17 graph', () => {
    const g = new Graph({ lowering: { gelu: 'onnx20' } });
    expect(() => gelu(g.input('x', 'float32', [2]))).toThrow(/Gelu: needs opset 20 or newer, the graph has 17/);
  });
});

describe('silu and quickGelu', () => {
  for (const dtype of ['float32', 'float16'] as const) {
    for (const impl of IMPLS.silu) {
      it(`silu ${impl} ${dtype} is x·sigmoid(x)`, async () => {
        await check(silu, (x) => x * sigmoid(x), dtype, { lowering: { silu: impl } });
      });
    }
    for (const impl of IMPLS.quickGelu) {
      it(`quickGelu ${impl} ${dtype} is x·sigmoid(1.702x)`, async () => {
        await check(quickGelu, (x) => x * sigmoid(1.702 * x), dtype, { lowering: { quickGelu: impl } });
      });
    }
  }

  it('silu contrib-quickgelu is QuickGelu with alpha 1', () => {
    const g = new Graph({ lowering: { silu: 'contrib-quickgelu' } });
    g.output(silu(g.input('x', 'float32', [2])));
    expect(dumpGraph(g)).toMatch(/= com\.microsoft\.QuickGelu\(x\) \{alpha=1\}/);
  });
});
