// Losses: the golden `losses` case (values and gradients from PyTorch), GAN losses against their formulas, pooling.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Graph, grad, ReduceSum, toOnnx, type Value } from '@sdxs/graph';
import { Tensor } from '@sdxs/tensor';
import { loadSafetensorsFile } from '@sdxs/tensor/node';
import { caseFile } from '../../../tools/golden/links.js';
import { avgPool2d, hingeDiscriminatorLoss, hingeGeneratorLoss, l1DownsampledLoss, mseLoss, nonSaturatingDiscriminatorLoss, nonSaturatingGeneratorLoss, ssim } from '../src/index.js';
import { GOLDEN, haveGolden, normal, relError, runtime } from './_helpers.js';

/** Run `build` on inputs, returning each named output and d output / d input for every input. */
async function lossAndGrads(inputs: Record<string, Tensor>, build: (v: Record<string, Value>) => Value): Promise<{ value: number; grads: Record<string, Tensor> }> {
  const g = new Graph();
  const vs = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, g.input(k, 'float32', [...t.shape])]));
  const loss = build(vs);
  const names = Object.keys(vs);
  const grads = grad(loss, names.map((n) => vs[n]!));
  g.output(loss, 'loss');
  names.forEach((n, i) => g.output(grads[i]!, `d.${n}`));
  const s = await runtime.createSession(toOnnx(g));
  const out = await s.run(inputs);
  await s.dispose();
  return { value: out['loss']!.toArray()[0]!, grads: Object.fromEntries(names.map((n) => [n, out[`d.${n}`]!])) };
}

describe.skipIf(!haveGolden)('golden case `losses` (PyTorch values and gradients, 1e-4 of each output scale)', async () => {
  const dir = join(GOLDEN, 'losses');
  const { tensors: inputs } = haveGolden ? await loadSafetensorsFile(caseFile(dir, 'inputs.safetensors')) : { tensors: new Map<string, Tensor>() };
  const { tensors: ref } = haveGolden ? await loadSafetensorsFile(caseFile(dir, 'outputs.safetensors')) : { tensors: new Map<string, Tensor>() };
  const cases: Record<string, (x: Value, y: Value) => Value> = {
    mse: mseLoss,
    l1_down8: (x, y) => l1DownsampledLoss(x, y, 8),
    ssim: (x, y) => ssim(x, y),
  };
  for (const [name, loss] of Object.entries(cases)) {
    it(name, async () => {
      const { value, grads } = await lossAndGrads({ x: inputs.get('x')!, y: inputs.get('y')! }, (v) => loss(v['x']!, v['y']!));
      expect(relError([value], ref.get(name)!)).toBeLessThanOrEqual(1e-4);
      expect(relError(grads['x']!, ref.get(`grad_x.${name}`)!)).toBeLessThanOrEqual(1e-4);
    });
  }
});

const softplus = (v: number) => Math.log1p(Math.exp(v));
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

describe('GAN losses', () => {
  const real = normal([6, 1], 1, 2);
  const fake = normal([6, 1], 2, 2);
  const r = Array.from(real.data);
  const f = Array.from(fake.data);
  const n = r.length;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  it('hinge: discriminator mean(relu(1 − real)) + mean(relu(1 + fake)), generator −mean(fake)', async () => {
    const d = await lossAndGrads({ real, fake }, (v) => hingeDiscriminatorLoss(v['real']!, v['fake']!));
    expect(d.value).toBeCloseTo(mean(r.map((v) => Math.max(0, 1 - v))) + mean(f.map((v) => Math.max(0, 1 + v))), 5);
    expect(relError(d.grads['real']!, r.map((v) => (v < 1 ? -1 / n : 0)))).toBeLessThan(1e-6);
    expect(relError(d.grads['fake']!, f.map((v) => (v > -1 ? 1 / n : 0)))).toBeLessThan(1e-6);
    const gen = await lossAndGrads({ fake }, (v) => hingeGeneratorLoss(v['fake']!));
    expect(gen.value).toBeCloseTo(-mean(f), 5);
    expect(relError(gen.grads['fake']!, f.map(() => -1 / n))).toBeLessThan(1e-6);
  });

  it('non-saturating: softplus(−real) + softplus(fake) for D, softplus(−fake) for G, stable for large logits', async () => {
    const d = await lossAndGrads({ real, fake }, (v) => nonSaturatingDiscriminatorLoss(v['real']!, v['fake']!));
    expect(d.value).toBeCloseTo(mean(r.map((v) => softplus(-v))) + mean(f.map(softplus)), 5);
    expect(relError(d.grads['real']!, r.map((v) => -sigmoid(-v) / n))).toBeLessThan(1e-5);
    expect(relError(d.grads['fake']!, f.map((v) => sigmoid(v) / n))).toBeLessThan(1e-5);
    const big = new Tensor('float32', [2], Float32Array.of(-200, 200));
    const gen = await lossAndGrads({ fake: big }, (v) => nonSaturatingGeneratorLoss(v['fake']!));
    // softplus(200) = 200 and softplus(−200) ≈ 0: no overflow to inf, no NaN gradient.
    expect(gen.value).toBeCloseTo(100, 4);
    expect(gen.grads['fake']!.toArray()).toEqual([-0.5, -0]);
  });
});

describe('avgPool2d and ssim', () => {
  it('pools whole 3×3 windows and drops the remainder rows and columns, as F.avg_pool2d', async () => {
    const x = normal([1, 2, 7, 8], 3);
    // Σ pooled: each covered pixel counts 1/9, the dropped row and columns 0.
    const { grads } = await lossAndGrads({ x }, (v) => {
      const p = avgPool2d(v['x']!, 3);
      expect(p.shape).toEqual([1, 2, 2, 2]);
      return ReduceSum(p, undefined, false);
    });
    const dx = grads['x']!.toArray();
    for (let c = 0; c < 2; c++) for (let i = 0; i < 7; i++) for (let j = 0; j < 8; j++) expect(dx[c * 56 + i * 8 + j]).toBeCloseTo(i < 6 && j < 6 ? 1 / 9 : 0, 7);
    const g = new Graph();
    const xv = g.input('x', 'float32', [1, 2, 7, 8]);
    g.output(avgPool2d(xv, 3), 'y');
    const s = await runtime.createSession(toOnnx(g));
    const y = (await s.run({ x }))['y']!.toArray();
    await s.dispose();
    const at = (c: number, i: number, j: number) => x.data[c * 56 + i * 8 + j]!;
    const expected: number[] = [];
    for (let c = 0; c < 2; c++) for (let oi = 0; oi < 2; oi++) for (let oj = 0; oj < 2; oj++) {
      let sum = 0;
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) sum += at(c, oi * 3 + i, oj * 3 + j);
      expected.push(sum / 9);
    }
    expect(relError(y, expected)).toBeLessThan(1e-6);
  });

  it('ssim of an image with itself is 1, with a zero gradient', async () => {
    const x = normal([1, 3, 16, 16], 4, 0.5);
    const { value, grads } = await lossAndGrads({ x, y: x }, (v) => ssim(v['x']!, v['y']!));
    expect(value).toBeCloseTo(1, 6);
    expect(Math.max(...grads['x']!.toArray().map(Math.abs))).toBeLessThan(1e-6);
  });
});
