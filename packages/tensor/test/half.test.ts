import { describe, expect, it } from 'vitest';
import {
  bfloat16BitsToNumber,
  bfloat16ToFloat32,
  castTensor,
  float16BitsToNumber,
  float16ToFloat32,
  float32ToBfloat16,
  float32ToFloat16,
  numberToBfloat16Bits,
  numberToFloat16Bits,
} from '../src/half/index.js';
import { Tensor } from '../src/tensor.js';

// ---- Independent references: plain arithmetic on values, no bit tricks. ----

/** The value of half bits by the textbook formula. */
function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m === 0 ? sign * Infinity : NaN;
  return sign * (e === 0 ? m * Math.pow(2, -24) : (1 + m / 1024) * Math.pow(2, e - 15));
}

/** The value of bfloat16 bits by the textbook formula. */
function bfloatValue(b: number): number {
  const sign = b & 0x8000 ? -1 : 1;
  const e = (b >> 7) & 0xff;
  const m = b & 0x7f;
  if (e === 0xff) return m === 0 ? sign * Infinity : NaN;
  return sign * (e === 0 ? m * Math.pow(2, -133) : (1 + m / 128) * Math.pow(2, e - 127));
}

/**
 * Round a non-NaN value to the nearest code by search over the positive codes, which are ordered like
 * their values. `values[code]` is the value of each positive code, with the infinity code standing for
 * the next power of two past the largest finite value: that is exactly IEEE's overflow rule (halfway
 * past the maximum and beyond goes to infinity).
 */
function nearestCode(x: number, values: Float64Array): number {
  const infCode = values.length - 1;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= values[infCode]!) return sign | infCode;
  let lo = 0;
  let hi = infCode; // invariant: values[lo] <= a < values[hi]
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (values[mid]! <= a) lo = mid;
    else hi = mid;
  }
  const below = a - values[lo]!;
  const above = values[hi]! - a;
  const code = below < above ? lo : above < below ? hi : lo % 2 === 0 ? lo : hi;
  return sign | code;
}

const HALF_VALUES = Float64Array.from({ length: 0x7c01 }, (_, c) => (c === 0x7c00 ? 65536 : halfValue(c)));
const BFLOAT_VALUES = Float64Array.from({ length: 0x7f81 }, (_, c) => (c === 0x7f80 ? Math.pow(2, 128) : bfloatValue(c)));
const refToHalf = (x: number): number => nearestCode(x, HALF_VALUES);
const refToBfloat = (x: number): number => nearestCode(x, BFLOAT_VALUES);

/** Index of the first element where two arrays differ (by value, NaN equal to NaN), or -1. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

const f32Bits = (values: Float32Array): Uint32Array => new Uint32Array(values.buffer, values.byteOffset, values.length);
function fromBits(bits: number[]): Float32Array {
  return new Float32Array(new Uint32Array(bits).buffer);
}

/** Deterministic 32-bit generator (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** ~1M float32 bit patterns: half fully random, half with exponents near the half-precision range. */
function randomFloat32Bits(count: number, seed: number, lowExp: number, highExp: number): Float32Array {
  const next = rng(seed);
  const bits = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const r = next();
    if (i % 2 === 0) bits[i] = r;
    else {
      const exp = lowExp + (next() % (highExp - lowExp + 1));
      bits[i] = (r & 0x807fffff) | (exp << 23);
    }
  }
  return new Float32Array(bits.buffer);
}

const isHalfNaN = (h: number): boolean => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
const isBfloatNaN = (b: number): boolean => (b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0;
const ALL_CODES = Uint16Array.from({ length: 65536 }, (_, i) => i);

describe('float16', () => {
  it('widens every half exactly, and narrows it back bit for bit', () => {
    const wide = float16ToFloat32(ALL_CODES);
    const wideBits = f32Bits(wide);
    const back = float32ToFloat16(wide);
    const failures: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const expected = halfValue(h);
      const ok = Number.isNaN(expected)
        ? Number.isNaN(wide[h]) &&
          wideBits[h]! >>> 31 === h >> 15 && // sign kept
          (wideBits[h]! & 0x00400000) !== 0 && // quiet
          back[h] === (h | 0x0200) // payload kept, quiet bit set
        : Object.is(wide[h], expected) && back[h] === h;
      if (!ok) failures.push(h);
    }
    expect(failures).toEqual([]);
  });

  it('scalar conversions agree with the array ones on every half', () => {
    const wide = float16ToFloat32(ALL_CODES);
    const failures: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const x = float16BitsToNumber(h);
      const ok = isHalfNaN(h)
        ? Number.isNaN(x) && (numberToFloat16Bits(x) & 0x7fff) === 0x7e00
        : Object.is(x, wide[h]) && numberToFloat16Bits(x) === h;
      if (!ok) failures.push(h);
    }
    expect(failures).toEqual([]);
  });

  it('rounds random float32 values like the exact reference', () => {
    const values = randomFloat32Bits(1 << 20, 1234, 96, 146);
    const bits = f32Bits(values);
    const halves = float32ToFloat16(values);
    let mismatches = 0;
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      if (Number.isNaN(x)) {
        const h = halves[i]!;
        const ok = isHalfNaN(h) && h >> 15 === bits[i]! >>> 31 && (h & 0x0200) !== 0;
        if (!ok) mismatches++;
        continue;
      }
      const expected = refToHalf(x);
      if (halves[i] !== expected || numberToFloat16Bits(x) !== expected) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('breaks every tie to even and rounds just off the ties to nearest', () => {
    // The midpoint of two adjacent positive halves needs 12 significant bits, so float32 holds it exactly.
    const inputs: number[] = [];
    const expected: number[] = [];
    for (let h = 0; h < 0x7c00; h++) {
      const lo = halfValue(h);
      const hi = h === 0x7bff ? 65536 : halfValue(h + 1);
      const mid = (lo + hi) / 2;
      const step = Math.pow(2, Math.floor(Math.log2(mid)) - 23) / 2; // under one float32 ulp at mid
      const even = h % 2 === 0 ? h : h + 1;
      for (const [x, code] of [
        [mid, even],
        [Math.fround(mid - step * 2), h],
        [Math.fround(mid + step * 2), h + 1],
      ] as const) {
        inputs.push(x, -x);
        expected.push(code, code | 0x8000);
      }
    }
    const got = float32ToFloat16(new Float32Array(inputs));
    let mismatches = 0;
    for (let i = 0; i < inputs.length; i++) {
      if (got[i] !== expected[i] || numberToFloat16Bits(inputs[i]!) !== expected[i]) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('handles the named edge cases', () => {
    const cases: Array<[number, number]> = [
      [65504, 0x7bff],
      [Math.fround(65519.99), 0x7bff],
      [65520, 0x7c00],
      [1e6, 0x7c00],
      [-65520, 0xfc00],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [Math.pow(2, -24), 0x0001],
      [Math.pow(2, -25), 0x0000],
      [-Math.pow(2, -25), 0x8000],
      [Math.fround(Math.pow(2, -25) * (1 + Math.pow(2, -23))), 0x0001],
      [3 * Math.pow(2, -25), 0x0002],
      [Math.pow(2, -14), 0x0400],
      [Math.pow(2, -14) - Math.pow(2, -25), 0x0400],
      [Math.pow(2, -14) - Math.pow(2, -24), 0x03ff],
      [Math.pow(2, -14) - 3 * Math.pow(2, -25), 0x03fe], // 1022.5 × 2^-24: tie, to even
      [1e-8, 0x0000],
      [Math.pow(2, -149), 0x0000],
      [-0, 0x8000],
      [0, 0x0000],
      [1, 0x3c00],
      [1 + Math.pow(2, -11), 0x3c00],
      [1 + 3 * Math.pow(2, -11), 0x3c02],
      [-2, 0xc000],
    ];
    const got = float32ToFloat16(new Float32Array(cases.map(([x]) => x)));
    cases.forEach(([x, code], i) => {
      expect([x, got[i]]).toEqual([x, code]);
      expect([x, numberToFloat16Bits(x)]).toEqual([x, code]);
    });
  });

  it('keeps NaNs NaN, quiet and signed, even when the payload sits in the dropped bits', () => {
    const got = float32ToFloat16(fromBits([0x7f800001, 0xff800001, 0x7fc00000, 0xffffffff, 0x7fa00000]));
    expect([...got]).toEqual([0x7e00, 0xfe00, 0x7e00, 0xffff, 0x7f00]);
    expect(numberToFloat16Bits(NaN) & 0x7fff).toBe(0x7e00);
    // A signalling half NaN widens to a quiet float32 NaN with the same sign and payload.
    expect([...f32Bits(float16ToFloat32(new Uint16Array([0x7c01, 0xfd00])))]).toEqual([0x7fc02000, 0xffe00000]);
  });

  it('agrees with Math.f16round where the runtime has it', () => {
    const f16round = (Math as { f16round?: (x: number) => number }).f16round;
    if (!f16round) return; // Node 20 lacks it; newer runtimes check us against the engine
    const values = randomFloat32Bits(1 << 16, 99, 100, 145);
    const halves = float32ToFloat16(values);
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      if (!Number.isNaN(x)) expect(Object.is(halfValue(halves[i]!), f16round(x))).toBe(true);
    }
  });

  it('writes into a given destination and rejects one of the wrong length', () => {
    const dst = new Uint16Array(2);
    expect(float32ToFloat16(new Float32Array([1, -2]), dst)).toBe(dst);
    expect([...dst]).toEqual([0x3c00, 0xc000]);
    // Views at an offset into a larger buffer work too.
    const wide = new Float32Array(4);
    float16ToFloat32(new Uint16Array([0x3c00, 0x4000]), wide.subarray(2));
    expect([...wide]).toEqual([0, 0, 1, 2]);
    expect(() => float32ToFloat16(new Float32Array(3), new Uint16Array(2))).toThrow(/2 elements but the source has 3/);
    expect(() => float16ToFloat32(new Uint16Array(3), new Float32Array(4))).toThrow(/4 elements but the source has 3/);
  });
});

describe('bfloat16', () => {
  it('widens every bfloat16 exactly, and narrows it back bit for bit', () => {
    const wide = bfloat16ToFloat32(ALL_CODES);
    const wideBits = f32Bits(wide);
    const back = float32ToBfloat16(wide);
    const failures: number[] = [];
    for (let b = 0; b < 65536; b++) {
      const expected = bfloatValue(b);
      const ok = Number.isNaN(expected)
        ? wideBits[b]! >>> 31 === b >> 15 &&
          (wideBits[b]! & 0x00400000) !== 0 &&
          back[b] === (b | 0x0040) &&
          Number.isNaN(bfloat16BitsToNumber(b))
        : Object.is(wide[b], expected) &&
          back[b] === b &&
          Object.is(bfloat16BitsToNumber(b), expected) &&
          numberToBfloat16Bits(expected) === b;
      if (!ok) failures.push(b);
    }
    expect(failures).toEqual([]);
  });

  it('rounds random float32 values like the exact reference', () => {
    const values = randomFloat32Bits(1 << 20, 4321, 0, 254);
    const bits = f32Bits(values);
    const got = float32ToBfloat16(values);
    let mismatches = 0;
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      if (Number.isNaN(x)) {
        const b = got[i]!;
        if (!(isBfloatNaN(b) && b >> 15 === bits[i]! >>> 31 && (b & 0x40) !== 0)) mismatches++;
        continue;
      }
      const expected = refToBfloat(x);
      if (got[i] !== expected || numberToBfloat16Bits(x) !== expected) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('breaks every tie to even and rounds just off the ties to nearest', () => {
    const inputs: number[] = [];
    const expected: number[] = [];
    for (let b = 0; b < 0x7f80; b++) {
      const lo = bfloatValue(b);
      const hi = b === 0x7f7f ? Math.pow(2, 128) : bfloatValue(b + 1);
      const mid = (lo + hi) / 2; // 9 significant bits: exact in float32 (below the top binade)
      if (Math.fround(mid) !== mid) continue; // only the midpoint past the largest finite value
      const next = fromBits([f32Bits(new Float32Array([mid]))[0]! + 1])[0]!;
      const prev = fromBits([f32Bits(new Float32Array([mid]))[0]! - 1])[0]!;
      const even = b % 2 === 0 ? b : b + 1;
      inputs.push(mid, prev, next);
      expected.push(even, b, b + 1);
    }
    const got = float32ToBfloat16(new Float32Array(inputs));
    let mismatches = 0;
    for (let i = 0; i < inputs.length; i++) {
      if (got[i] !== expected[i] || numberToBfloat16Bits(inputs[i]!) !== expected[i]) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(inputs.length).toBeGreaterThan(3 * 0x7f00);
  });

  it('handles the named edge cases', () => {
    const got = float32ToBfloat16(
      fromBits([0x7f7fffff, 0x7f7f7fff, 0x7f7f8000, 0xff7f8000, 0x00000001, 0x00008000, 0x00018000, 0x80000000, 0x3f808000, 0x3f818000]),
    );
    expect([...got]).toEqual([0x7f80, 0x7f7f, 0x7f80, 0xff80, 0x0000, 0x0000, 0x0002, 0x8000, 0x3f80, 0x3f82]);
    expect(numberToBfloat16Bits(1e39)).toBe(0x7f80);
    expect(numberToBfloat16Bits(-1e-50)).toBe(0x8000);
  });

  it('keeps NaNs NaN, quiet and signed', () => {
    const got = float32ToBfloat16(fromBits([0x7f800001, 0xff800001, 0x7fffffff, 0xffc00000]));
    expect([...got]).toEqual([0x7fc0, 0xffc0, 0x7fff, 0xffc0]);
    expect([...f32Bits(bfloat16ToFloat32(new Uint16Array([0x7f81, 0xff81])))]).toEqual([0x7fc10000, 0xffc10000]);
    expect(numberToBfloat16Bits(NaN) & 0x7fff).toBe(0x7fc0);
  });
});

describe('castTensor', () => {
  const values = randomFloat32Bits(70_000, 7, 110, 140); // more than one internal block
  const source = new Tensor('float32', [70_000], values);

  it('narrows and widens float32 through the array conversions', () => {
    const half = castTensor(source, 'float16');
    expect(half.dtype).toBe('float16');
    expect(half.shape).toEqual([70_000]);
    expect(firstDifference(half.data, float32ToFloat16(values))).toBe(-1);
    const bf = castTensor(source, 'bfloat16');
    expect(firstDifference(bf.data, float32ToBfloat16(values))).toBe(-1);
    expect(firstDifference(castTensor(half, 'float32').data, float16ToFloat32(half.data))).toBe(-1);
    expect(firstDifference(castTensor(bf, 'float32').data, bfloat16ToFloat32(bf.data))).toBe(-1);
  });

  it('converts between the half types with a single rounding', () => {
    const half = castTensor(source, 'float16');
    const bf = castTensor(half, 'bfloat16');
    expect(firstDifference(bf.data, float32ToBfloat16(float16ToFloat32(half.data)))).toBe(-1);
    expect(firstDifference(castTensor(bf, 'float16').data, float32ToFloat16(bfloat16ToFloat32(bf.data)))).toBe(-1);
  });

  it('returns the same tensor for the same dtype and copies otherwise', () => {
    expect(castTensor(source, 'float32')).toBe(source);
    const wide = castTensor(castTensor(source, 'float16'), 'float32');
    expect(wide.data.buffer).not.toBe(source.data.buffer);
  });

  it('rejects other dtypes clearly', () => {
    const ints = new Tensor('int32', [2], new Int32Array([1, 2]));
    expect(() => castTensor(ints, 'float16')).toThrow(/float32, float16 and bfloat16 tensors, not int32/);
    expect(() => castTensor(ints, 'float32')).toThrow(/not int32/);
  });
});
