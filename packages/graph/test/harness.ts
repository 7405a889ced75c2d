// Test harness: run a built graph in onnxruntime-node and compare with plain TypeScript references.
import * as ort from 'onnxruntime-node';
import { Tensor, type DType, isDType } from '@sdxs/tensor';
import { toOnnx, type Graph } from '@sdxs/graph';
import { expect } from 'vitest';

function toOrt(t: Tensor): ort.Tensor {
  if (t.dtype === 'bfloat16') throw new Error('onnxruntime-node tensors have no bfloat16');
  return new ort.Tensor(t.dtype, t.data, [...t.shape]);
}

function fromOrt(name: string, t: ort.Tensor): Tensor {
  const dtype = t.type;
  if (!isDType(dtype)) throw new Error(`output ${name} has dtype ${dtype}, which sdxs does not use`);
  // The session's output buffers are ours; copy through slice() to detach from any pooled memory.
  const data = (t.data as Tensor['data']).slice();
  return new Tensor(dtype as DType, [...t.dims], data);
}

/** Serialize `graph`, run it once on the CPU EP and return every output by name. */
export async function runGraph(graph: Graph, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await ort.InferenceSession.create(toOnnx(graph), { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrt(v);
    const results = await session.run(ortFeeds);
    const out: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(results)) out[k] = fromOrt(k, v);
    return out;
  } finally {
    await session.release();
  }
}

/** A small deterministic PRNG (mulberry32) for test inputs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform random float32 tensor in [lo, hi). */
export function randomTensor(shape: readonly number[], seed: number, lo = -1, hi = 1): Tensor<'float32'> {
  const r = rng(seed);
  const t = Tensor.zeros('float32', shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = lo + (hi - lo) * r();
  return t;
}

/** Assert two float tensors match elementwise within `atol + rtol·|expected|`. */
export function expectClose(actual: Tensor | undefined, expected: ArrayLike<number>, shape: readonly number[], atol = 1e-5, rtol = 1e-5): void {
  expect(actual).toBeDefined();
  const a = actual!;
  expect([...a.shape]).toEqual([...shape]);
  expect(a.data.length).toBe(expected.length);
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const v = Number(a.data[i]);
    const err = Math.abs(v - e) - (atol + rtol * Math.abs(e));
    if (!(err <= worst)) {
      worst = Number.isNaN(err) ? Infinity : err;
      worstAt = i;
    }
  }
  if (worstAt >= 0) {
    expect.fail(`element ${worstAt}: got ${Number(a.data[worstAt])}, expected ${expected[worstAt]} (atol ${atol}, rtol ${rtol})`);
  }
}
