import { describe, expect, it } from 'vitest';
import { f32, fmaf, torchCumprodF32, torchLinspaceF32 } from '../src/common/float32.js';
import { npArange, npInterpIndex, npLinspace, roundHalfEven } from '../src/common/numpy.js';

/** Exact a·b + c as a rational with a power-of-two denominator, rounded to float32 by comparison. */
function exactFmaf(a: number, b: number, c: number): number {
  // Scale everything to integers: float32 values are multiples of 2^-149.
  const scale = 2n ** 160n;
  const big = (x: number): bigint => {
    const [m, e] = decompose(x);
    return e >= 0 ? (m << BigInt(e)) * scale : (m * scale) >> BigInt(-e);
  };
  const exact = (big(a) * big(b)) / scale + big(c); // a·b·scale + c·scale (products of float32 are exact here)
  const r = f32(Number(exact) / Number(scale));
  // Pick the float32 nearest to `exact` among r and its neighbours (ties to even).
  const candidates = [r, nextF32(r, -1), nextF32(r, 1)];
  let best = r;
  let bestDist: bigint | null = null;
  for (const cand of candidates) {
    const d = big(cand) - exact;
    const dist = d < 0n ? -d : d;
    if (bestDist === null || dist < bestDist || (dist === bestDist && (bits(cand) & 1) === 0)) {
      best = cand;
      bestDist = dist;
    }
  }
  return best;
}

function decompose(x: number): [bigint, number] {
  if (x === 0) return [0n, 0];
  let e = 0;
  let m = x;
  while (!Number.isInteger(m)) {
    m *= 2;
    e--;
  }
  return [BigInt(m), e];
}

function bits(x: number): number {
  return new Uint32Array(Float32Array.of(x).buffer)[0]!;
}

function nextF32(x: number, dir: 1 | -1): number {
  if (x === 0) return dir * 2 ** -149;
  const u = new Uint32Array(Float32Array.of(x).buffer);
  u[0] = u[0]! + (x > 0 === dir > 0 ? 1 : -1);
  return new Float32Array(u.buffer)[0]!;
}

describe('fmaf', () => {
  it('rounds a·b + c once, like the hardware instruction', () => {
    let seed = 12345;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let k = 0; k < 3000; k++) {
      const a = f32((rand() - 0.5) * 8);
      const b = k % 3 === 0 ? Math.floor(rand() * 1000) : f32((rand() - 0.5) * 8);
      const c = f32((rand() - 0.5) * 8);
      expect(fmaf(a, b, c)).toBe(exactFmaf(a, b, c));
    }
  });

  it('differs from two roundings where the product is inexact in float32', () => {
    // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24: the last term is lost by rounding the product first.
    const a = f32(1 + 2 ** -12);
    const c = f32(-1 - 2 ** -11);
    expect(f32(f32(a * a) + c)).toBe(0);
    expect(fmaf(a, a, c)).toBe(2 ** -24);
  });
});

describe('torchLinspaceF32', () => {
  it('hits both ends exactly and steps by the float32 step', () => {
    const start = Math.sqrt(0.00085);
    const end = Math.sqrt(0.012);
    const v = torchLinspaceF32(start, end, 1000);
    expect(v[0]).toBe(f32(start));
    expect(v[999]).toBe(f32(end));
    const step = f32(f32(f32(end) - f32(start)) / 999);
    for (let i = 1; i < 1000; i++) {
      expect(v[i]! - v[i - 1]!).toBeGreaterThan(0);
      expect(Math.abs(v[i]! - (f32(start) + i * step))).toBeLessThan(1e-8);
    }
  });

  it('counts down from the end in the second half', () => {
    const v = torchLinspaceF32(0, 1, 7); // step 1/6: the second half is 1 − k/6
    expect(Array.from(v)).toEqual([0, f32(1 / 6), f32(2 / 6), fmaf(-f32(1 / 6), 3, 1), fmaf(-f32(1 / 6), 2, 1), fmaf(-f32(1 / 6), 1, 1), 1]);
    expect(Array.from(torchLinspaceF32(3, 5, 1))).toEqual([3]);
  });
});

describe('torchCumprodF32', () => {
  it('keeps the running product in float64', () => {
    const x = Float32Array.from({ length: 1000 }, (_, i) => f32(1 - 0.001 * ((i % 13) + 1)));
    const out = torchCumprodF32(x);
    let exact = 1;
    let single = 1;
    for (let i = 0; i < x.length; i++) {
      exact *= x[i]!;
      single = f32(single * x[i]!);
    }
    expect(out[999]).toBe(f32(exact));
    expect(out[999]).not.toBe(single); // a float32 accumulator drifts
  });
});

describe('NumPy helpers', () => {
  it('linspace matches i·step + start with the last value pinned', () => {
    expect(npLinspace(0, 999, 4)).toEqual([0, 333, 666, 999]);
    expect(npLinspace(0, 1, 1)).toEqual([0]);
    expect(npLinspace(0, 50, 4, false)).toEqual([0, 12.5, 25, 37.5]);
    const v = npLinspace(0, 999, 7);
    expect(v[6]).toBe(999);
    expect(v[3]).toBe(3 * (999 / 6));
  });

  it('arange recomputes its step from the first two values', () => {
    expect(npArange(1000, 0, -250)).toEqual([1000, 750, 500, 250]);
    const step = -1000 / 3;
    const v = npArange(1000, 0, step);
    const delta = 1000 + step - 1000;
    expect(v).toEqual([1000, 1000 + step, 1000 + 2 * delta]);
    expect(npArange(0, 5, -1)).toEqual([]);
  });

  it('arange gives ceil(span / step) values, one more than the step count for some n', () => {
    // 1000 / (1000 / 61) is 61.000000000000007 in float64, so NumPy makes 62 values.
    expect(1000 / (1000 / 61)).toBeGreaterThan(61);
    expect(npArange(1000, 0, -1000 / 61)).toHaveLength(62);
    expect(npArange(1000, 0, -1000 / 50)).toHaveLength(50);
  });

  it('rounds halves to even', () => {
    expect([0.5, 1.5, 2.5, 62.5, 937.5, 812.5, 2.4, 2.6, -1.5].map(roundHalfEven)).toEqual([0, 2, 2, 62, 938, 812, 2, 3, -2]);
  });

  it('interp returns table values at integers and blends between them', () => {
    const fp = [1, 3, 7];
    expect(npInterpIndex(1, fp)).toBe(3);
    expect(npInterpIndex(0.25, fp)).toBe(1.5);
    expect(npInterpIndex(1.5, fp)).toBe(5);
    expect(npInterpIndex(-1, fp)).toBe(1);
    expect(npInterpIndex(9, fp)).toBe(7);
  });
});
