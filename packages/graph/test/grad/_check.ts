// Finite-difference checks of gradient rules, run in onnxruntime-node (CPU).
//
// ONNX Runtime's CPU EP has double kernels for a handful of ops only, and @sdxs/tensor has no float64 dtype,
// so checks run in float32 and compare directional derivatives: for random directions v over every
// differentiated input, the analytic ⟨∇f, v⟩ (from the backward graph) against the central difference
// (f(x + εv) − f(x − εv)) / 2ε, where f(x) = Σ r·y for a random cotangent r (passed as the seed, so the
// seed path is tested too), accumulated in float64 on the JS side.
// Tolerance: |analytic − fd| ≤ tol·Σ|∂ᵢf·vᵢ| + noise, where Σ|∂ᵢf·vᵢ| is the size of the terms that can
// cancel, tol (default 1e-3) covers the O(ε²) truncation of the central difference (ε = 1e-2 on inputs of
// size ~1: ~1e-5 relative for these smooth functions), and noise = 4·Σ|rᵢ·yᵢ|·2⁻²³/2ε bounds the float32
// rounding of the outputs magnified by 1/2ε. A wrong rule is off by a term of size ~Σ|∂ᵢf·vᵢ|.
import * as ort from 'onnxruntime-node';
import { Tensor, type DType } from '@sdxs/tensor';
import { grad, Graph, toOnnx, type Dim, type GraphOptions, type Value } from '@sdxs/graph';
import { expect } from 'vitest';
import { randomTensor, rng } from '../harness.js';

export interface InputSpec {
  shape: number[];
  /** Default: uniform in [-1, 1). */
  data?: Tensor;
  dtype?: DType;
  /** Differentiate with respect to this input (default: float32 inputs). */
  wrt?: boolean;
  /** The shape the graph declares, with symbolic dims (default: `shape`). */
  declared?: Dim[];
}

export interface GradCase {
  inputs: Record<string, InputSpec>;
  build: (v: Record<string, Value>, g: Graph) => Value;
  graph?: GraphOptions;
  /** Step of the central difference (default 1e-2). Use a smaller one near kinks that the inputs avoid by more than it. */
  eps?: number;
  /** Relative tolerance (default 1e-3, see above). */
  tol?: number;
  /** The output's run-time shape, where the declared one is symbolic. */
  outShape?: number[];
  /** Random directions to check (default 3). */
  directions?: number;
  seed?: number;
}

/** A float32 tensor from a JS array. */
export function f32(shape: readonly number[], values: ArrayLike<number>): Tensor<'float32'> {
  return new Tensor('float32', shape, Float32Array.from(values));
}

/** Uniform values in [lo, hi) with random signs: |x| ≥ lo keeps kinks at 0 (ReLU, |x|) away from the ε-steps. */
export function awayFromZero(shape: readonly number[], seed: number, lo = 0.1, hi = 1): Tensor<'float32'> {
  const r = rng(seed);
  const t = randomTensor(shape, seed + 1, lo, hi);
  for (let i = 0; i < t.data.length; i++) if (r() < 0.5) t.data[i] = -t.data[i]!;
  return t;
}

function toOrt(t: Tensor): ort.Tensor {
  if (t.dtype === 'bfloat16') throw new Error('no bfloat16 in onnxruntime-node');
  return new ort.Tensor(t.dtype, t.data, [...t.shape]);
}

function numbers(t: ort.Tensor | undefined): Float64Array {
  if (!t) throw new Error('missing output');
  return Float64Array.from(t.data as Float32Array);
}

/** Build the case with its gradients, run it, and check ⟨∇f, v⟩ against central differences. */
export async function checkGrad(c: GradCase): Promise<void> {
  const eps = c.eps ?? 1e-2;
  const tol = c.tol ?? 1e-3;
  const seed = c.seed ?? 1;
  const g = new Graph(c.graph);
  const values: Record<string, Value> = {};
  const feeds: Record<string, Tensor> = {};
  const wrt: string[] = [];
  let s = seed * 1000;
  for (const [name, spec] of Object.entries(c.inputs)) {
    const dtype = spec.data?.dtype ?? spec.dtype ?? 'float32';
    values[name] = g.input(name, dtype, spec.declared ?? spec.shape);
    feeds[name] = spec.data ?? randomTensor(spec.shape, s++);
    if (spec.wrt ?? dtype === 'float32') wrt.push(name);
  }
  const y = c.build(values, g);
  const r = g.input('__seed', y.dtype, y.shape);
  const yShape = c.outShape ?? y.shape.map(Number);
  feeds['__seed'] = randomTensor(yShape, s++);
  const grads = grad(y, wrt.map((n) => values[n]!), { seed: r });
  g.output(y, '__y');
  grads.forEach((d, i) => g.output(d, `d_${wrt[i]}`));

  const session = await ort.InferenceSession.create(toOnnx(g), { executionProviders: ['cpu'] });
  try {
    const run = async (shift: Record<string, Float64Array>, scale: number) => {
      const f: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) {
        const dir = shift[name];
        if (!dir) {
          f[name] = toOrt(t);
          continue;
        }
        const data = Float32Array.from(t.data as Float32Array, (v, i) => v + scale * dir[i]!);
        f[name] = new ort.Tensor('float32', data, [...t.shape]);
      }
      return session.run(f);
    };
    const base = await run({}, 0);
    const rv = numbers(toOrt(feeds['__seed']!));
    const objective = (out: ort.InferenceSession.ReturnType) => {
      const yv = numbers(out['__y']);
      let sum = 0;
      let size = 0;
      for (let i = 0; i < yv.length; i++) {
        sum += rv[i]! * yv[i]!;
        size += Math.abs(rv[i]! * yv[i]!);
      }
      return { sum, size };
    };
    const gradients = Object.fromEntries(wrt.map((n) => [n, numbers(base[`d_${n}`])]));
    for (const n of wrt) expect(base[`d_${n}`]!.dims, `d_${n} shape`).toEqual(feeds[n]!.shape);
    const dirRng = rng(seed * 7919 + 13);
    for (let k = 0; k < (c.directions ?? 3); k++) {
      const dirs: Record<string, Float64Array> = {};
      let analytic = 0;
      let magnitude = 0;
      for (const n of wrt) {
        const gv = gradients[n]!;
        const v = Float64Array.from(gv, () => 2 * dirRng() - 1);
        dirs[n] = v;
        for (let i = 0; i < v.length; i++) {
          analytic += gv[i]! * v[i]!;
          magnitude += Math.abs(gv[i]! * v[i]!);
        }
      }
      const plus = objective(await run(dirs, eps));
      const minus = objective(await run(dirs, -eps));
      const fd = (plus.sum - minus.sum) / (2 * eps);
      const noise = (4 * Math.max(plus.size, minus.size) * 2 ** -23) / (2 * eps);
      const allowed = tol * magnitude + noise;
      expect(Math.abs(analytic - fd), `direction ${k}: analytic ${analytic}, finite difference ${fd}, allowed error ${allowed}`).toBeLessThanOrEqual(allowed);
      expect(Number.isFinite(analytic)).toBe(true);
    }
  } finally {
    await session.release();
  }
}
