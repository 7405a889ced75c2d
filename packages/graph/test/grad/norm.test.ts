import { describe, it } from 'vitest';
import { attention, gelu, groupNorm, InstanceNormalization, LayerNormalization, layerNorm, MatMul, quickGelu, silu, Softmax } from '@sdxs/graph';
import { checkGrad } from './_check.js';

describe('grad: Softmax', () => {
  for (const axis of [-1, 1, 0]) {
    it(`axis ${axis}`, async () => {
      await checkGrad({ inputs: { x: { shape: [3, 4, 5] } }, build: (v) => Softmax(v['x']!, axis) });
    });
  }
});

describe('grad: normalizations (rules for the fused ONNX ops)', () => {
  it('LayerNormalization over the last axis and over the last two', async () => {
    await checkGrad({ inputs: { x: { shape: [2, 3, 6] }, s: { shape: [6] }, b: { shape: [6] } }, build: (v) => LayerNormalization(v['x']!, v['s']!, v['b']) });
    await checkGrad({ inputs: { x: { shape: [2, 3, 4] }, s: { shape: [3, 4] } }, build: (v) => LayerNormalization(v['x']!, v['s']!, undefined, { axis: 1, epsilon: 1e-3 }) });
  });
  it('LayerNormalization over every axis (axis 0: no leading axes to sum the parameters over)', async () => {
    await checkGrad({ inputs: { x: { shape: [3, 5] }, s: { shape: [3, 5] }, b: { shape: [3, 5] } }, build: (v) => LayerNormalization(v['x']!, v['s']!, v['b'], { axis: 0 }) });
  });
  it('InstanceNormalization, 2-D and 1-D spatial', async () => {
    await checkGrad({ inputs: { x: { shape: [2, 3, 4, 5] }, s: { shape: [3] }, b: { shape: [3] } }, build: (v) => InstanceNormalization(v['x']!, v['s']!, v['b']!) });
    await checkGrad({ inputs: { x: { shape: [2, 4, 7] }, s: { shape: [4] }, b: { shape: [4] } }, build: (v) => InstanceNormalization(v['x']!, v['s']!, v['b']!, 1e-3) });
  });
});

describe('grad: composites under each differentiable lowering', () => {
  for (const impl of ['instance-norm', 'decomposed'] as const) {
    it(`groupNorm (${impl}) with SiLU`, async () => {
      await checkGrad({
        graph: { lowering: { groupNorm: impl } },
        inputs: { x: { shape: [2, 6, 3, 4] }, s: { shape: [6] }, b: { shape: [6] } },
        build: (v) => groupNorm(v['x']!, 3, v['s'], v['b'], 1e-5, { silu: true }),
      });
    });
  }
  for (const impl of ['onnx', 'decomposed'] as const) {
    it(`layerNorm (${impl})`, async () => {
      await checkGrad({
        graph: { lowering: { layerNorm: impl } },
        inputs: { x: { shape: [2, 5, 8] }, s: { shape: [8] }, b: { shape: [8] } },
        build: (v) => layerNorm(v['x']!, v['s'], v['b']),
      });
    });
  }
  for (const impl of ['formula', 'contrib'] as const) {
    for (const approximate of ['erf', 'tanh'] as const) {
      it(`gelu ${approximate} (${impl})`, async () => {
        await checkGrad({ graph: { lowering: { gelu: impl } }, inputs: { x: { shape: [3, 7] } }, build: (v) => gelu(v['x']!, approximate) });
      });
    }
  }
  it('gelu (onnx20: ONNX Gelu, opset 20), both forms', async () => {
    for (const approximate of ['erf', 'tanh'] as const) {
      await checkGrad({ graph: { opset: 20, lowering: { gelu: 'onnx20' } }, inputs: { x: { shape: [3, 7] } }, build: (v) => gelu(v['x']!, approximate) });
    }
  });
  for (const impl of ['mul-sigmoid', 'contrib'] as const) {
    it(`quickGelu (${impl})`, async () => {
      await checkGrad({ graph: { lowering: { quickGelu: impl } }, inputs: { x: { shape: [4, 5] } }, build: (v) => quickGelu(v['x']!) });
    });
  }
  for (const impl of ['mul-sigmoid', 'contrib-quickgelu'] as const) {
    it(`silu (${impl})`, async () => {
      await checkGrad({ graph: { lowering: { silu: impl } }, inputs: { x: { shape: [4, 5] } }, build: (v) => silu(v['x']!) });
    });
  }
  it('attention (decomposed), with a mask and causal', async () => {
    await checkGrad({
      graph: { lowering: { attention: 'decomposed' } },
      inputs: { q: { shape: [2, 3, 8] }, k: { shape: [2, 5, 8] }, v: { shape: [2, 5, 4] }, m: { shape: [2, 1, 1, 5], wrt: false } },
      build: (v) => attention(v['q']!, v['k']!, v['v']!, { heads: 2, mask: v['m'] }),
    });
    await checkGrad({
      graph: { lowering: { attention: 'decomposed' } },
      inputs: { x: { shape: [1, 4, 6] }, w: { shape: [6, 6] } },
      build: (v) => {
        const h = MatMul(v['x']!, v['w']!);
        return attention(h, h, v['x']!, { heads: 3, causal: true });
      },
    });
  });
});
