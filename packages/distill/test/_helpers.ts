// Shared test helpers: a CPU runtime, seeded data, float64 comparisons.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Generator, Tensor } from '@sdxs/tensor';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { expect } from 'vitest';
import type { Graph, Value } from '@sdxs/graph';
import { adamw, makeTrainable, Trainer, type Batch, type ParamSelector } from '../src/index.js';

/** One CPU runtime for a test file; two threads (the machine's cores), deterministic across runs. */
export const runtime = createNodeRuntime({ intraOpThreads: 2 });

export const GOLDEN = fileURLToPath(new URL('../../../../shared/golden/', import.meta.url));
export const haveGolden = existsSync(GOLDEN);

/** A float32 tensor of `shape` from N(0, 1)·scale, drawn from `seed`. */
export function normal(shape: readonly number[], seed: number, scale = 1): Tensor<'float32'> {
  const t = new Generator(seed).randn(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i]! * scale;
  return t;
}

/** A float32 tensor from numbers. */
export function f32(shape: readonly number[], values: ArrayLike<number>): Tensor<'float32'> {
  return new Tensor('float32', shape, Float32Array.from(values));
}

function numbers(v: ArrayLike<number> | Tensor): ArrayLike<number> {
  return v instanceof Tensor ? v.toArray() : v;
}

/** Max |a − e| / max |e| over the elements. */
export function relError(actualIn: ArrayLike<number> | Tensor, expectedIn: ArrayLike<number> | Tensor): number {
  const actual = numbers(actualIn);
  const expected = numbers(expectedIn);
  expect(actual.length).toBe(expected.length);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    err = Math.max(err, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return err / (scale || 1);
}

/** Bitwise equality of two float32 arrays (NaN patterns included). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** The losses of `steps` optimizer steps on one fixed batch (the parameters `select` picks trained, default all). */
export async function lossesOn(graph: Graph, loss: Value, batch: Batch, steps: number, lr: number, select: ParamSelector = () => true): Promise<number[]> {
  const trainer = await Trainer.create({ runtime, graph, loss, trainable: makeTrainable(graph, select), optimizer: adamw({ lr, weightDecay: 0 }) });
  const out: number[] = [];
  try {
    for (let i = 0; i < steps; i++) out.push((await trainer.step(batch)).loss);
  } finally {
    await trainer.dispose();
  }
  return out;
}
