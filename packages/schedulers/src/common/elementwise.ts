/**
 * Elementwise loops over float32 tensors of one shape. The callbacks do the float32 rounding themselves
 * (`f32` around every intermediate op) so each scheduler reads like the diffusers expression it mirrors;
 * the store into a Float32Array rounds the last op.
 */
import { formatShape, Tensor } from '@sdxs/tensor';

function sameShape(what: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new RangeError(`${what}: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} differ`);
  }
}

/** A float32 tensor shaped like `a` with `fn(a[i])`. */
export function map1(a: Tensor<'float32'>, fn: (x: number) => number): Tensor<'float32'> {
  const x = a.data;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = fn(x[i]!);
  return new Tensor('float32', a.shape, out);
}

/** A float32 tensor shaped like `a` with `fn(a[i], b[i])`; `what` names the caller in a shape error. */
export function map2(
  what: string,
  a: Tensor<'float32'>,
  b: Tensor<'float32'>,
  fn: (x: number, y: number) => number,
): Tensor<'float32'> {
  sameShape(what, a, b);
  const x = a.data;
  const y = b.data;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = fn(x[i]!, y[i]!);
  return new Tensor('float32', a.shape, out);
}

/** A float32 tensor shaped like `a` with `fn(a[i], b[i], c[i])`. */
export function map3(
  what: string,
  a: Tensor<'float32'>,
  b: Tensor<'float32'>,
  c: Tensor<'float32'>,
  fn: (x: number, y: number, z: number) => number,
): Tensor<'float32'> {
  sameShape(what, a, b);
  sameShape(what, a, c);
  const x = a.data;
  const y = b.data;
  const z = c.data;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = fn(x[i]!, y[i]!, z[i]!);
  return new Tensor('float32', a.shape, out);
}

/**
 * Per-sample scalars for `add_noise`: one timestep for the whole batch, or one per entry of dim 0
 * (diffusers broadcasts `timesteps` of shape [batch] over the remaining dims).
 */
export function perBatch(what: string, sample: Tensor, timesteps: number | readonly number[]): readonly number[] {
  const batch = sample.shape[0] ?? 1;
  if (typeof timesteps === 'number') return new Array<number>(batch).fill(timesteps);
  if (timesteps.length !== batch) {
    throw new RangeError(`${what}: ${timesteps.length} timesteps for a batch of ${batch}`);
  }
  return timesteps;
}

/** `out[i] = fn(a[i], b[i], value of i's batch entry)` for add_noise-style broadcasts over dim 0. */
export function mapBatched<T>(
  what: string,
  a: Tensor<'float32'>,
  b: Tensor<'float32'>,
  perEntry: readonly T[],
  fn: (x: number, y: number, s: T) => number,
): Tensor<'float32'> {
  sameShape(what, a, b);
  const x = a.data;
  const y = b.data;
  const out = new Float32Array(x.length);
  const inner = perEntry.length === 0 ? 0 : x.length / perEntry.length;
  for (let i = 0; i < x.length; i++) out[i] = fn(x[i]!, y[i]!, perEntry[Math.floor(i / inner)]!);
  return new Tensor('float32', a.shape, out);
}
