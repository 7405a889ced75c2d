import { describe, expect, it } from 'vitest';
import { Graph, IMPLS, layerNorm, type Value } from '@sdxs/graph';
import type { Tensor } from '@sdxs/tensor';
import { randomTensor } from '../harness.js';
import { HALF_ULP, expectNear, run, toHalf, valuesOf } from './_ref.js';

/** torch.nn.LayerNorm over the trailing `inner` elements, double precision. */
function layerNormRef(x: number[], inner: number, scale: number[] | undefined, bias: number[] | undefined, eps: number): number[] {
  const out: number[] = [];
  for (let start = 0; start < x.length; start += inner) {
    const row = x.slice(start, start + inner);
    const mean = row.reduce((a, b) => a + b, 0) / inner;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / inner;
    row.forEach((v, i) => out.push(((v - mean) / Math.sqrt(variance + eps)) * (scale?.[i] ?? 1) + (bias?.[i] ?? 0)));
  }
  return out;
}

const shape = [2, 3, 4, 5];

describe('layerNorm', () => {
  for (const impl of IMPLS.layerNorm) {
    for (const dtype of ['float32', 'float16'] as const) {
      for (const variant of ['affine, last axis', 'no affine, last two axes', 'scale only, eps 1e-6'] as const) {
        it(`${impl} ${dtype} matches torch.nn.LayerNorm (${variant})`, async () => {
          const cast = (t: Tensor<'float32'>): Tensor => (dtype === 'float16' ? toHalf(t) : t);
          const axis = variant.startsWith('no affine') ? -2 : -1;
          const eps = variant.endsWith('1e-6') ? 1e-6 : 1e-5;
          const normalized = shape.slice(axis + shape.length);
          const g = new Graph({ lowering: { layerNorm: impl } });
          const x = g.input('x', dtype, ['n', 3, 4, 5]);
          const feeds: Record<string, Tensor> = { x: cast(randomTensor(shape, 41, -3, 3)) };
          let scale: Value | undefined;
          let bias: Value | undefined;
          if (!variant.startsWith('no affine')) {
            scale = g.input('scale', dtype, normalized);
            feeds['scale'] = cast(randomTensor(normalized, 42, 0.5, 1.5));
          }
          if (variant.startsWith('affine')) {
            bias = g.input('bias', dtype, normalized);
            feeds['bias'] = cast(randomTensor(normalized, 43, -1, 1));
          }
          g.output(layerNorm(x, scale, bias, { axis, eps }), 'y');
          const inner = normalized.reduce((a, b) => a * b, 1);
          const ref = layerNormRef(valuesOf(feeds['x']!), inner, feeds['scale'] && valuesOf(feeds['scale']), feeds['bias'] && valuesOf(feeds['bias']), eps);
          const [atol, rtol] = dtype === 'float32' ? [1e-5, 1e-5] : [2 * HALF_ULP, 2 * HALF_ULP];
          for (const level of ['disabled', 'all'] as const) expectNear((await run(g, feeds, level)).y, ref, shape, atol, rtol);
        });
      }
    }
  }

  it('onnx emits one LayerNormalization; decomposed emits ReduceMean/Sub/Mul/Sqrt/Div', () => {
    const ops = (impl: (typeof IMPLS.layerNorm)[number]) => {
      const g = new Graph({ lowering: { layerNorm: impl } });
      g.output(layerNorm(g.input('x', 'float32', [2, 8]), g.input('w', 'float32', [8])));
      return g.nodes.map((n) => n.opType);
    };
    expect(ops('onnx')).toEqual(['LayerNormalization']);
    expect(ops('decomposed')).toEqual(['ReduceMean', 'Sub', 'Mul', 'ReduceMean', 'Add', 'Sqrt', 'Div', 'Mul']);
  });

  it('names the parameter whose shape is wrong', () => {
    const g = new Graph();
    expect(() => layerNorm(g.input('x', 'float32', [2, 8]), g.input('norm.weight', 'float32', [4]))).toThrow(/layerNorm: norm\.weight must be \[8\]/);
  });
});
