// crossEntropyLoss against a direct float64 computation, and its gradient against the analytic (softmax − target) / B.
// (The golden `losses` case has no cross-entropy, so the references here are the formulas.)
import { describe, expect, it } from 'vitest';
import { Graph, GraphError, grad, toOnnx } from '@sdxs/graph';
import { Tensor } from '@sdxs/tensor';
import { crossEntropyLoss } from '../src/index.js';
import { normal, relError, runtime } from './_helpers.js';

/** The loss and its gradients for logits and target, run on onnxruntime (CPU). */
async function run(logits: Tensor<'float32'>, target: Tensor<'float32'>): Promise<{ value: number; dLogits: number[]; dTarget: number[] }> {
  const g = new Graph();
  const x = g.input('logits', 'float32', [...logits.shape]);
  const t = g.input('target', 'float32', [...target.shape]);
  const loss = crossEntropyLoss(x, t);
  expect(loss.shape).toEqual([]);
  const [dx, dt] = grad(loss, [x, t]);
  g.output(loss, 'loss');
  g.output(dx!, 'd.logits');
  g.output(dt!, 'd.target');
  const s = await runtime.createSession(toOnnx(g));
  const out = await s.run({ logits, target });
  await s.dispose();
  return { value: out['loss']!.toArray()[0]!, dLogits: out['d.logits']!.toArray(), dTarget: out['d.target']!.toArray() };
}

/** log_softmax of each row in float64 (max-shifted), from the float32 inputs exactly as given. */
function logSoftmax(logits: Float32Array, b: number, c: number): Float64Array {
  const out = new Float64Array(b * c);
  for (let i = 0; i < b; i++) {
    const row = Array.from(logits.subarray(i * c, (i + 1) * c));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    row.forEach((v, j) => (out[i * c + j] = v - lse));
  }
  return out;
}

/** −mean_b Σ_c target·log_softmax, in float64. */
function reference(logits: Float32Array, target: Float32Array, b: number, c: number): number {
  const ls = logSoftmax(logits, b, c);
  let sum = 0;
  for (let k = 0; k < b * c; k++) sum += target[k]! * ls[k]!;
  return -sum / b;
}

/** Rows of probabilities: a softmax of random scores (soft labels), or one-hot rows. */
function probabilities(b: number, c: number, seed: number, oneHot: boolean): Tensor<'float32'> {
  const scores = normal([b, c], seed, 2);
  const p = new Float32Array(b * c);
  for (let i = 0; i < b; i++) {
    const row = Array.from(scores.data.subarray(i * c, (i + 1) * c));
    if (oneHot) {
      p[i * c + row.indexOf(Math.max(...row))] = 1;
    } else {
      const e = row.map(Math.exp);
      const z = e.reduce((s, v) => s + v, 0);
      e.forEach((v, j) => (p[i * c + j] = v / z));
    }
  }
  return new Tensor('float32', [b, c], p);
}

/** Logits of scale `scale`, with ±`extreme` planted in every row (a very confident and a very wrong class). */
function logits(b: number, c: number, seed: number, scale: number, extreme: number): Tensor<'float32'> {
  const t = normal([b, c], seed, scale);
  for (let i = 0; i < b; i++) {
    t.data[i * c + (i % c)] = extreme;
    t.data[i * c + ((i + 1) % c)] = -extreme;
  }
  return t;
}

const CASES = [
  { name: 'small logits, soft targets', b: 4, c: 5, scale: 1, extreme: 2, oneHot: false },
  { name: 'logits up to ±80, soft targets', b: 6, c: 7, scale: 30, extreme: 80, oneHot: false },
  { name: 'logits up to ±80, one-hot targets', b: 6, c: 7, scale: 30, extreme: 80, oneHot: true },
  { name: 'logits ±200 (exp would overflow float32 unshifted), soft targets', b: 3, c: 9, scale: 50, extreme: 200, oneHot: false },
  { name: 'one row, two classes', b: 1, c: 2, scale: 3, extreme: 1, oneHot: true },
] as const;

describe('crossEntropyLoss', () => {
  it.each(CASES)('value and gradients match float64 formulas: $name', async ({ b, c, scale, extreme, oneHot }) => {
    const x = logits(b, c, 10 * b + c, scale, extreme);
    const t = probabilities(b, c, 100 + b + c, oneHot);
    const { value, dLogits, dTarget } = await run(x, t);
    const want = reference(x.data, t.data, b, c);
    expect(Number.isFinite(value)).toBe(true);
    // float32 arithmetic on logits up to a few hundred: relative 1e-6 of the loss plus a float32 rounding of
    // the largest logit (log_softmax is a difference of numbers of that size).
    const maxLogit = Math.max(...Array.from(x.data, Math.abs));
    expect(Math.abs(value - want)).toBeLessThanOrEqual(1e-6 * Math.abs(want) + 2 ** -23 * maxLogit);
    // d/dlogits = (softmax − target) / B, since each target row sums to 1.
    const ls = logSoftmax(x.data, b, c);
    const wantLogits = Array.from(ls, (v, k) => (Math.exp(v) - t.data[k]!) / b);
    expect(dLogits.every(Number.isFinite)).toBe(true);
    expect(relError(dLogits, wantLogits)).toBeLessThan(1e-6);
    // d/dtarget = −log_softmax / B.
    const wantTarget = Array.from(ls, (v) => -v / b);
    expect(relError(dTarget, wantTarget)).toBeLessThan(1e-6);
  });

  it('is 0 with a zero gradient for a saturated correct prediction, 160 for a saturated wrong one', async () => {
    // log_softmax(80, −80) = (−e^−160, −160 − e^−160): in float32 exactly (0, −160), and softmax is exactly (1, 0).
    const x = new Tensor('float32', [2, 2], Float32Array.of(80, -80, -80, 80));
    const t = new Tensor('float32', [2, 2], Float32Array.of(1, 0, 0, 1));
    const { value, dLogits } = await run(x, t);
    expect(Math.abs(value)).toBe(0); // −0 from the final negation
    expect(dLogits.map((v) => Math.abs(v))).toEqual([0, 0, 0, 0]);
    // And the opposite target costs 160 per row, gradient ±1/B.
    const wrong = await run(x, new Tensor('float32', [2, 2], Float32Array.of(0, 1, 1, 0)));
    expect(wrong.value).toBe(160);
    expect(wrong.dLogits).toEqual([0.5, -0.5, -0.5, 0.5]);
  });

  it('equals log C for equal logits and a one-hot target', async () => {
    const c = 8;
    const x = new Tensor('float32', [3, c], new Float32Array(3 * c).fill(1.5));
    const t = probabilities(3, c, 7, true);
    const { value } = await run(x, t);
    expect(value).toBeCloseTo(Math.log(c), 6);
  });

  it('rejects logits and target of different shapes', () => {
    const g = new Graph();
    expect(() => crossEntropyLoss(g.input('x', 'float32', [2, 3]), g.input('t', 'float32', [2, 4]))).toThrow(GraphError);
  });
});
