import type { Tensor } from '@sdxs/tensor';
import type { Tolerance } from './types.js';

export interface Comparison {
  readonly output: string;
  readonly maxAbs: number;
  /** maxAbs divided by the reference's scale (its largest magnitude; 1 when all zero). */
  readonly maxRel: number;
  /** Elements whose bits differ (only counted for exact comparisons). */
  readonly mismatched: number;
  readonly ok: boolean;
  readonly tolerance: Tolerance;
  /** Why it failed before numbers could be compared (shape or dtype mismatch). */
  readonly problem?: string;
  /** With a `zero` tolerance: the larger of the two sides' largest magnitudes, the rounding noise checked. */
  readonly noise?: number;
}

function asNumber(v: number | bigint): number {
  return typeof v === 'bigint' ? Number(v) : v;
}

/** Compare a computed tensor with the reference under `tol`. NaN anywhere it is not expected fails. */
export function compareTensors(output: string, actual: Tensor, expected: Tensor, tol: Tolerance): Comparison {
  const base = { output, tolerance: tol };
  if (actual.shape.join() !== expected.shape.join()) {
    return { ...base, maxAbs: Infinity, maxRel: Infinity, mismatched: expected.size, ok: false, problem: `shape [${actual.shape}] vs reference [${expected.shape}]` };
  }
  let maxAbs = 0;
  let scale = 0;
  let noise = 0;
  let mismatched = 0;
  const exactBits = tol.exact && actual.data instanceof Float32Array && expected.data instanceof Float32Array;
  const aBits = exactBits ? new Uint32Array(actual.data.buffer, actual.data.byteOffset, actual.size) : undefined;
  const eBits = exactBits ? new Uint32Array(expected.data.buffer, expected.data.byteOffset, expected.size) : undefined;
  for (let i = 0; i < expected.size; i++) {
    const e = asNumber(expected.data[i]!);
    const a = asNumber(actual.data[i]!);
    const d = Math.abs(a - e);
    if (Number.isNaN(d) && !(Number.isNaN(a) && Number.isNaN(e))) maxAbs = NaN;
    else if (d > maxAbs) maxAbs = d;
    if (Math.abs(e) > scale) scale = Math.abs(e);
    if (Math.abs(a) > noise) noise = Math.abs(a);
    if (aBits && eBits ? aBits[i] !== eBits[i] : tol.exact && a !== e) mismatched++;
  }
  const maxRel = maxAbs / (scale || 1);
  let ok = !Number.isNaN(maxAbs);
  if (tol.zero) {
    // Both sides against the exact value 0, relative to the scale they are noise of (types.ts, Tolerance.zero).
    noise = Math.max(noise, scale);
    ok &&= tol.relative !== undefined && noise <= tol.relative * tol.zero.scale;
    return { ...base, maxAbs, maxRel, mismatched, ok, noise };
  }
  if (tol.exact) ok &&= mismatched === 0;
  if (tol.absolute !== undefined) ok &&= maxAbs <= tol.absolute;
  if (tol.relative !== undefined) ok &&= maxRel <= tol.relative;
  return { ...base, maxAbs, maxRel, mismatched, ok };
}
