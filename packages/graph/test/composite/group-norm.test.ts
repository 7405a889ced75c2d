import { describe, expect, it } from 'vitest';
import { Graph, IMPLS, dumpGraph, groupNorm, toOnnx, type Dim, type Value } from '@sdxs/graph';
import type { Tensor } from '@sdxs/tensor';
import * as ort from 'onnxruntime-node';
import { randomTensor } from '../harness.js';
import { HALF_ULP, expectNear, run, sigmoid, toHalf, valuesOf } from './_ref.js';

/** torch.nn.GroupNorm on NCHW, in double precision from the (possibly half-rounded) inputs. */
function groupNormRef(x: number[], shape: readonly number[], groups: number, scale: number[], bias: number[], eps: number, withSilu: boolean): number[] {
  const [n, c] = shape as [number, number];
  const spatial = shape.slice(2).reduce((a, b) => a * b, 1);
  const per = (c / groups) * spatial;
  const out = new Array<number>(x.length);
  for (let b = 0; b < n; b++) {
    for (let g = 0; g < groups; g++) {
      const start = (b * c + g * (c / groups)) * spatial;
      let mean = 0;
      for (let i = 0; i < per; i++) mean += x[start + i]!;
      mean /= per;
      let variance = 0;
      for (let i = 0; i < per; i++) variance += (x[start + i]! - mean) ** 2;
      variance /= per;
      for (let i = 0; i < per; i++) {
        const ch = g * (c / groups) + Math.floor(i / spatial);
        const y = ((x[start + i]! - mean) / Math.sqrt(variance + eps)) * scale[ch]! + bias[ch]!;
        out[start + i] = withSilu ? y * sigmoid(y) : y;
      }
    }
  }
  return out;
}

const shape = [2, 6, 3, 4];
const groups = 3;
const eps = 1e-5;

function build(impl: (typeof IMPLS.groupNorm)[number], dtype: 'float32' | 'float16', inShape: readonly Dim[], withSilu = false): Graph {
  const g = new Graph({ lowering: { groupNorm: impl } });
  const x = g.input('x', dtype, inShape);
  const scale: Value = g.input('scale', dtype, [6]);
  const bias: Value = g.input('bias', dtype, [6]);
  g.output(groupNorm(x, groups, scale, bias, eps, { silu: withSilu }), 'y');
  return g;
}

describe('groupNorm', () => {
  const xs = randomTensor(shape, 11, -2, 3);
  const scale = randomTensor([6], 12, 0.5, 1.5);
  const bias = randomTensor([6], 13, -0.5, 0.5);

  for (const impl of ['instance-norm', 'decomposed'] as const) {
    for (const dtype of ['float32', 'float16'] as const) {
      for (const dims of [shape, ['n', 6, 'h', 'w']] as const) {
        it(`${impl} ${dtype} matches torch.nn.GroupNorm (x ${JSON.stringify(dims)})`, async () => {
          const cast = (t: Tensor<'float32'>): Tensor => (dtype === 'float16' ? toHalf(t) : t);
          const feeds = { x: cast(xs), scale: cast(scale), bias: cast(bias) };
          const ref = groupNormRef(valuesOf(feeds.x), shape, groups, valuesOf(feeds.scale), valuesOf(feeds.bias), eps, false);
          const g = build(impl, dtype, dims);
          const [atol, rtol] = dtype === 'float32' ? [1e-5, 1e-5] : [2 * HALF_ULP, 2 * HALF_ULP];
          for (const level of ['disabled', 'all'] as const) expectNear((await run(g, feeds, level)).y, ref, shape, atol, rtol);
        });
      }
    }
    it(`${impl} applies the SiLU option`, async () => {
      const ref = groupNormRef(valuesOf(xs), shape, groups, valuesOf(scale), valuesOf(bias), eps, true);
      expectNear((await run(build(impl, 'float32', shape, true), { x: xs, scale, bias })).y, ref, shape, 1e-5, 1e-5);
    });
  }

  it('instance-norm emits Reshape → InstanceNormalization → Reshape → Mul → Add', () => {
    const text = dumpGraph(build('instance-norm', 'float32', shape));
    expect(text).toMatch(/= Reshape\(x, .*\n.*= InstanceNormalization\(.*\{epsilon=0\.00001\}\n.*= Reshape\(.*\n.*= Reshape\(scale.*\n.*= Mul\(.*\n.*= Reshape\(bias.*\n.*= Add\(/);
  });

  it('contrib-nhwc emits com.microsoft.GroupNorm between transposes; the CPU EP has no kernel for it', async () => {
    const g = build('contrib-nhwc', 'float16', shape, true);
    const text = dumpGraph(g);
    expect(text).toMatch(/= Transpose\(x\) \{perm=\[0, 2, 3, 1\]\}/);
    expect(text).toMatch(/: float16\[2, 3, 4, 6\] = com\.microsoft\.GroupNorm\(Transpose_\d+:out_\d+, scale, bias\) \{groups=3, epsilon=0\.00001, activation=1, channels_last=1\}/);
    expect(text).toMatch(/: float16\[2, 6, 3, 4\] = Transpose\(GroupNorm_\d+:out_\d+\) \{perm=\[0, 3, 1, 2\]\}/);
    expect(text).not.toMatch(/Sigmoid/); // SiLU fused into the kernel
    await expect(ort.InferenceSession.create(toOnnx(g), { executionProviders: ['cpu'] })).rejects.toThrow(/GroupNorm/);
  });

  it('uses the table default for the target: CUDA gets the contrib kernel, CPU and WebGPU InstanceNormalization', () => {
    const ops = (target: 'cpu' | 'webgpu' | 'cuda') => {
      const g = new Graph({ target });
      g.output(groupNorm(g.input('x', 'float32', shape), groups, undefined, undefined));
      return g.nodes.map((n) => n.opType);
    };
    expect(ops('cuda')).toContain('GroupNorm');
    expect(ops('cpu')).toContain('InstanceNormalization');
    expect(ops('webgpu')).toContain('InstanceNormalization');
  });

  it('refuses channels that do not split into the groups, naming the shapes', () => {
    const g = new Graph();
    expect(() => groupNorm(g.input('x', 'float32', [1, 6, 2, 2]), 4, undefined, undefined)).toThrow(/groupNorm: 6 channels do not split into 4 groups/);
    expect(() => groupNorm(g.input('x2', 'float32', [1, 6, 2, 2]), 3, g.input('s', 'float32', [5]), undefined)).toThrow(/s must be \[6\]/);
  });
});
