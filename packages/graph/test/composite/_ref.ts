// Helpers for the composite tests: float16 conversion written here (independent of the code under test),
// a runner that can switch onnxruntime's graph optimizations off (so the nodes we emit are what runs), and
// plain-TypeScript math used by the references.
import * as ort from 'onnxruntime-node';
import { Tensor, isDType, type DType } from '@sdxs/tensor';
import { toOnnx, type Graph } from '@sdxs/graph';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> float16 bits, round to nearest even (normal, subnormal, overflow to ±inf). */
export function toHalfBits(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const absBits = x & 0x7fffffff;
  if (absBits >= 0x7f800000) return sign | 0x7c00 | (absBits > 0x7f800000 ? 0x200 : 0);
  const a = Math.abs(f32[0]);
  if (a >= 65520) return sign | 0x7c00; // rounds past the largest half (65504)
  if (a < 2 ** -14) {
    // Subnormal: multiples of 2^-24, nearest even.
    const q = a / 2 ** -24;
    let r = Math.round(q);
    if (Math.abs(q - Math.trunc(q) - 0.5) === 0 && r % 2 === 1) r -= 1;
    return sign | r;
  }
  const e = Math.floor(Math.log2(a));
  const exp = Math.min(Math.max(e, -14), 15);
  const m = a / 2 ** exp; // in [1, 2)
  const q = (m - 1) * 1024;
  let r = Math.round(q);
  if (q - Math.floor(q) === 0.5 && r % 2 === 1) r -= 1;
  if (r === 1024) return sign | ((exp + 16) << 10);
  return sign | ((exp + 15) << 10) | r;
}

/** float16 bits -> number. */
export function fromHalfBits(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** The float16 version of a float32 tensor (values rounded to half). */
export function toHalf(t: Tensor<'float32'>): Tensor<'float16'> {
  return new Tensor('float16', t.shape, Uint16Array.from(t.data, toHalfBits));
}

/** Values of a float tensor as numbers (decoding half bits). */
export function valuesOf(t: Tensor): number[] {
  if (t.dtype === 'float16') return Array.from(t.data as Uint16Array, fromHalfBits);
  return Array.from(t.data, Number);
}

/** Run `graph` on the CPU EP with the given optimization level; returns outputs by name. */
export async function run(graph: Graph, feeds: Record<string, Tensor>, level: 'disabled' | 'all' = 'disabled'): Promise<Record<string, Tensor>> {
  const session = await ort.InferenceSession.create(toOnnx(graph), { executionProviders: ['cpu'], graphOptimizationLevel: level });
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) {
      if (v.dtype === 'bfloat16') throw new Error('no bfloat16 feeds');
      ortFeeds[k] = new ort.Tensor(v.dtype, v.data, [...v.shape]);
    }
    const out: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(await session.run(ortFeeds))) {
      if (!isDType(v.type)) throw new Error(`output ${k} has dtype ${v.type}`);
      out[k] = new Tensor(v.type as DType, [...v.dims], (v.data as Tensor['data']).slice());
    }
    return out;
  } finally {
    await session.release();
  }
}

/**
 * erf by its Maclaurin series, accurate to ~1e-12 for |x| ≤ 4 in double precision (the tests keep inputs in
 * that range); exact enough to judge float32 kernels.
 */
export function erf(x: number): number {
  if (Math.abs(x) > 4) return Math.sign(x);
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Assert a float tensor (float16 decoded) matches `expected` within `atol + rtol·|expected|` elementwise. */
export function expectNear(actual: Tensor | undefined, expected: ArrayLike<number>, shape: readonly number[], atol: number, rtol: number): void {
  if (!actual) throw new Error('missing output');
  if (actual.shape.join() !== shape.join()) throw new Error(`shape [${actual.shape.join(', ')}], expected [${shape.join(', ')}]`);
  const got = valuesOf(actual);
  if (got.length !== expected.length) throw new Error(`${got.length} values, expected ${expected.length}`);
  for (let i = 0; i < got.length; i++) {
    const e = expected[i]!;
    if (!(Math.abs(got[i]! - e) <= atol + rtol * Math.abs(e))) {
      throw new Error(`element ${i}: got ${got[i]}, expected ${e} (atol ${atol}, rtol ${rtol})`);
    }
  }
}

/**
 * float16 keeps 11 significant bits: rounding is off by at most 2^-11 relative. onnxruntime's CPU EP computes
 * float16 graphs in float32 (it inserts casts around nodes without float16 kernels, and its float16 kernels
 * accumulate in float32), so outputs are within about one rounding of the exact result of the half inputs.
 */
export const HALF_ULP = 2 ** -11;
