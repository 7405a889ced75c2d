import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { logPs, MAX_LANES, sincosPs } from '../src/random/avx-mathfun.js';
import { fmaf } from '../src/random/fma.js';
import { MT19937 } from '../src/random/mt19937.js';
import { DEFAULT_SEED, Generator, randn } from '../src/random/index.js';

const CASE_DIR = fileURLToPath(new URL('../../../../shared/golden/rng-torch-randn/', import.meta.url));

interface RngCase {
  seed: number;
  shape: number[];
  draw?: number;
}

/** Just enough safetensors to read the F32 outputs, so this test does not depend on the reader. */
function readF32Safetensors(path: string): Map<string, Float32Array> {
  const bytes = readFileSync(path);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out = new Map<string, Float32Array>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (info.dtype !== 'F32') throw new Error(`${name}: expected F32, got ${info.dtype}`);
    const [begin, end] = info.data_offsets;
    const copy = new Uint8Array(bytes.subarray(8 + headerLength + begin, 8 + headerLength + end)); // aligned copy
    out.set(name, new Float32Array(copy.buffer));
  }
  return out;
}

function bitsOf(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** Number of elements whose float32 bit patterns differ (0 when bit-exact). */
function bitMismatches(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  const x = bitsOf(a);
  const y = bitsOf(b);
  let n = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) n++;
  return n;
}

describe('randn matches torch.randn on the CPU bit for bit', () => {
  const cases = JSON.parse(readFileSync(CASE_DIR + 'case.json', 'utf8')) as Record<string, unknown>;
  const outputs = readF32Safetensors(CASE_DIR + 'outputs.safetensors');
  const entries = Object.entries(cases).filter(([name]) => name !== 'kind') as [string, RngCase][];

  it('has cases for both paths (the test data is complete)', () => {
    const sizes = entries.map(([, c]) => c.shape.reduce((a, b) => a * b, 1));
    expect(sizes.some((n) => n < 16)).toBe(true);
    expect(sizes.some((n) => n >= 16 && n % 16 !== 0)).toBe(true);
    expect(entries.some(([, c]) => c.draw === 2)).toBe(true);
  });

  // Consecutive draws (draw 1, 2, ...) of one seed share a generator, in case order.
  const generators = new Map<number, Generator>();
  for (const [name, c] of entries) {
    it(`${name}: seed ${c.seed}, shape [${c.shape.join(', ')}]${c.draw ? `, draw ${c.draw}` : ''}`, () => {
      let got: Float32Array;
      if (c.draw === undefined) {
        got = randn(c.shape, { seed: c.seed }).data;
      } else {
        if (c.draw === 1) generators.set(c.seed, new Generator(c.seed));
        const g = generators.get(c.seed);
        if (!g) throw new Error(`${name}: draw ${c.draw} before draw 1`);
        got = g.randn(c.shape).data;
      }
      const expected = outputs.get(name);
      if (!expected) throw new Error(`${name} missing from outputs.safetensors`);
      expect(bitMismatches(got, expected)).toBe(0);
    });
  }
});

describe('Generator stream semantics', () => {
  it('returns float32 tensors of the requested shape', () => {
    const t = new Generator(3).randn([2, 3, 5]);
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([2, 3, 5]);
    expect(t.data.length).toBe(30);
    expect(t.data.every((v) => Number.isFinite(v))).toBe(true);
  });

  it('is deterministic per seed and differs between seeds', () => {
    expect(bitMismatches(randn([1000], { seed: 9 }).data, randn([1000], { seed: 9 }).data)).toBe(0);
    expect(bitMismatches(randn([1000], { seed: 9 }).data, randn([1000], { seed: 10 }).data)).toBeGreaterThan(990);
  });

  it('has torch’s default seed without one, and manualSeed restarts the stream', () => {
    const g = new Generator();
    expect(g.initialSeed()).toBe(DEFAULT_SEED);
    expect(bitMismatches(g.randn([64]).data, randn([64]).data)).toBe(0);
    const first = g.manualSeed(5).randn([40]).data;
    g.randn([7]); // leaves a cached Box–Muller value behind, which manualSeed must drop
    expect(bitMismatches(g.manualSeed(5).randn([40]).data, first)).toBe(0);
  });

  it('keeps the spare Box–Muller value of the scalar path across calls, like torch', () => {
    // Under 16 elements each pair of uniforms gives two normals; an odd draw caches the second.
    const whole = randn([4], { seed: 11 }).data;
    const g = new Generator(11);
    const parts = [...g.randn([3]).data, ...g.randn([1]).data];
    expect(bitMismatches(new Float32Array(parts), whole)).toBe(0);
  });

  it('draws nothing for an empty shape and one value for a scalar shape', () => {
    const g = new Generator(1);
    expect(g.randn([0, 4]).data.length).toBe(0);
    expect(g.randn([]).data.length).toBe(1);
    const h = new Generator(1);
    h.randn([]);
    expect(bitMismatches(g.randn([20]).data, h.randn([20]).data)).toBe(0);
  });

  it('accepts seeds up to 2^64 - 1; only the low 32 bits reach the Mersenne Twister, as in torch', () => {
    const big = new Generator(2n ** 64n - 1n);
    expect(big.initialSeed()).toBe(2n ** 64n - 1n);
    expect(bitMismatches(big.randn([33]).data, randn([33], { seed: 2 ** 32 - 1 }).data)).toBe(0);
    expect(bitMismatches(randn([5], { seed: 2n ** 32n + 7n }).data, randn([5], { seed: 7 }).data)).toBe(0);
    expect(randn([3], { seed: 2 ** 53 - 1 }).data.length).toBe(3);
  });

  it('rejects invalid seeds with a RangeError', () => {
    for (const seed of [-(2n ** 63n) - 1n, 2n ** 64n, 1.5, Number.NaN, Infinity, 2 ** 53, -(2 ** 53), 2 ** 64]) {
      expect(() => new Generator(seed), String(seed)).toThrow(RangeError);
      expect(() => randn([2], { seed }), String(seed)).toThrow(RangeError);
    }
    expect(() => new Generator(2 ** 60)).toThrow(/bigint/);
    expect(() => new Generator(-(2n ** 64n))).toThrow(/torch's manual_seed range/);
  });

  it('takes negative seeds as torch does: the int64 cast to uint64 (−1 is 2^64 − 1)', () => {
    for (const [neg, pos] of [[-1n, 2n ** 64n - 1n], [-5n, 2n ** 64n - 5n], [-(2n ** 63n), 2n ** 63n]] as const) {
      expect(new Generator(neg).initialSeed()).toBe(pos);
      expect(bitMismatches(randn([40], { seed: neg }).data, randn([40], { seed: pos }).data)).toBe(0);
    }
    expect(new Generator(0).manualSeed(-7).initialSeed()).toBe(2n ** 64n - 7n);
    expect(new Generator(-42).initialSeed()).toBe(2n ** 64n - 42n);
    // Not the magnitude: −5 draws differently from 5.
    expect(bitMismatches(randn([40], { seed: -5 }).data, randn([40], { seed: 5 }).data)).toBeGreaterThan(0);
  });

  it('validates shapes and options', () => {
    const g = new Generator(0);
    expect(() => g.randn([2, -1])).toThrow(RangeError);
    expect(() => g.randn([2.5])).toThrow(RangeError);
    expect(() => g.randn([Number.NaN])).toThrow(RangeError);
    expect(() => randn([2], { seed: 1, generator: g })).toThrow(TypeError);
  });
});

describe('generator state', () => {
  it('round-trips exactly, including the cached scalar value', () => {
    const g = new Generator(1234);
    g.randn([100]);
    g.randn([5]); // odd: a cached value is pending
    const state = g.getState();
    const a = [g.randn([3]).data, g.randn([37]).data, g.randn([700]).data];
    const h = new Generator(0).setState(state);
    const b = [h.randn([3]).data, h.randn([37]).data, h.randn([700]).data];
    for (let i = 0; i < a.length; i++) expect(bitMismatches(a[i]!, b[i]!)).toBe(0);
    expect(h.initialSeed()).toBe(1234n);
    // Restoring into the same generator rewinds it.
    expect(bitMismatches(g.setState(state).randn([3]).data, a[0]!)).toBe(0);
  });

  it('round-trips at every position within a Mersenne Twister block', () => {
    const g = new Generator(77n);
    for (const n of [1, 623, 624, 625, 1248]) {
      g.randn([n]);
      const s = g.getState();
      expect(Array.from(new Generator().setState(s).getState())).toEqual(Array.from(s));
      const expected = g.randn([40]).data;
      expect(bitMismatches(new Generator().setState(s).randn([40]).data, expected)).toBe(0);
    }
  });

  it('uses torch’s CPUGeneratorImplState layout (5056 bytes, little-endian)', () => {
    const g = new Generator(2n ** 40n + 3n);
    const fresh = new DataView(g.getState().buffer);
    expect(fresh.byteLength).toBe(5056);
    expect(fresh.getBigUint64(0, true)).toBe(2n ** 40n + 3n); // the_initial_seed
    expect(fresh.getInt32(8, true)).toBe(1); // left
    expect(fresh.getInt32(12, true)).toBe(1); // seeded
    expect(fresh.getBigUint64(24, true)).toBe(3n); // state[0] = seed & 0xffffffff
    expect(fresh.getInt32(5040, true)).toBe(0); // no cached normal
    g.randn([1]);
    const after = new DataView(g.getState().buffer);
    // One scalar normal = two 53-bit uniforms = four 32-bit draws: the first refills the block.
    expect(after.getInt32(8, true)).toBe(621); // left
    expect(after.getBigUint64(16, true)).toBe(4n); // next
    expect(after.getInt32(5040, true)).toBe(1); // normal_is_valid
    expect(Number.isFinite(after.getFloat64(5024, true))).toBe(true); // normal_y
  });

  it('rejects malformed states without changing the generator', () => {
    const g = new Generator(8);
    const good = g.getState();
    expect(() => g.setState(new Uint8Array(100))).toThrow(RangeError);
    const corrupt = (offset: number, value: number) => {
      const s = good.slice();
      new DataView(s.buffer).setInt32(offset, value, true);
      return s;
    };
    expect(() => g.setState(corrupt(8, 0))).toThrow(/left/); // left = 0
    expect(() => g.setState(corrupt(8, 625))).toThrow(/left/);
    expect(() => g.setState(corrupt(16, 625))).toThrow(/next/);
    expect(() => g.setState(corrupt(12, 0))).toThrow(/seeded/);
    expect(Array.from(g.getState())).toEqual(Array.from(good));
  });
});

describe('MT19937', () => {
  it('is the standard mt19937: the 10000th draw from seed 5489 is 4123659995 (C++ [rand.predef])', () => {
    const mt = new MT19937(5489n);
    let last = 0;
    for (let i = 0; i < 10000; i++) last = mt.nextUint32();
    expect(last).toBe(4123659995);
  });

  it('fillUniform24 continues the same stream as nextUint32, across refills', () => {
    const a = new MT19937(99n);
    const b = new MT19937(99n);
    const out = new Float32Array(3000);
    let at = 0;
    for (const n of [1, 622, 1, 1, 700, 3, 624, 1048]) {
      a.fillUniform24(out, at, n);
      for (let i = at; i < at + n; i++) expect(out[i]).toBe((b.nextUint32() & 0xffffff) * 2 ** -24);
      at += n;
      b.nextUint32(); // interleave single draws too
      a.nextUint32();
    }
  });
});

describe('AVX mathfun lanes', () => {
  it('approximate log, sin and cos to float32 accuracy', () => {
    const n = MAX_LANES;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.fround(2 ** -24 + (i / n) * 8);
    const log = new Float32Array(n);
    const sin = new Float32Array(n);
    const cos = new Float32Array(n);
    logPs(x, log, n);
    sincosPs(x, sin, cos, n);
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      expect(Math.abs(log[i]! - Math.log(v))).toBeLessThanOrEqual(4e-7 * Math.max(1, Math.abs(Math.log(v))));
      expect(Math.abs(sin[i]! - Math.sin(v))).toBeLessThan(2e-7);
      expect(Math.abs(cos[i]! - Math.cos(v))).toBeLessThan(2e-7);
    }
  });

  it('keeps log256_ps quirks: NaN for x <= 0, NaN and denormals clamped to the smallest normal', () => {
    const x = new Float32Array([0, -1, Number.NaN, 1e-45, 2 ** -126, 1]);
    const out = new Float32Array(6);
    logPs(x, out, 6);
    expect(out[0]).toBeNaN();
    expect(out[1]).toBeNaN();
    expect(out[2]).toBe(out[4]);
    expect(out[3]).toBe(out[4]);
    expect(out[5]).toBe(0);
  });

  it('refuses more lanes than its registers hold', () => {
    const x = new Float32Array(MAX_LANES + 1);
    expect(() => logPs(x, x, MAX_LANES + 1)).toThrow(RangeError);
    expect(() => sincosPs(x, x, x, MAX_LANES + 1)).toThrow(RangeError);
  });
});

// ---- float32 FMA emulation, against exact rational arithmetic ----

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);

/** x = m * 2^e exactly, m a BigInt (x finite). */
function decompose(x: number): [bigint, number] {
  F64[0] = x;
  const bits = U64[0]!;
  const sign = bits >> 63n ? -1n : 1n;
  const biased = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  return biased === 0 ? [sign * frac, -1074] : [sign * (frac | (1n << 52n)), biased - 1075];
}

/** a * b + c rounded once to float32 (round to nearest, ties to even), computed exactly. */
function exactFmaf(a: number, b: number, c: number): number {
  const [ma, ea] = decompose(a);
  const [mb, eb] = decompose(b);
  const [mc, ec] = decompose(c);
  const ep = ea + eb;
  const e = Math.min(ep, ec);
  const m = ((ma * mb) << BigInt(ep - e)) + (mc << BigInt(ec - e));
  if (m === 0n) return a * b + c; // exact zero: float64 gets the sign of zero right
  const negative = m < 0n;
  const mag = negative ? -m : m;
  const top = e + mag.toString(2).length - 1; // exponent of the leading bit
  const ulpExp = Math.max(top - 23, -149);
  let q: bigint;
  if (ulpExp <= e) {
    q = mag << BigInt(e - ulpExp);
  } else {
    const shift = BigInt(ulpExp - e);
    q = mag >> shift;
    const rem = mag - (q << shift);
    const half = 1n << (shift - 1n);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
  }
  const r = Math.fround(Number(q) * 2 ** ulpExp);
  return negative ? -r : r;
}

describe('fmaf (emulated float32 fused multiply-add)', () => {
  it('breaks the double-rounding trap: float64 sum on a float32 midpoint', () => {
    // p = 2^-24 (1 - 2^-46) exactly; c = 1 + 2^-23. The exact sum lies just below the midpoint
    // 1 + 2^-23 + 2^-24 but rounds onto it in float64, where ties-to-even would go up.
    const a = Math.fround((1 - 2 ** -23) * 2 ** -24);
    const b = Math.fround(1 + 2 ** -23);
    const c = Math.fround(1 + 2 ** -23);
    expect(Math.fround(a * b + c)).toBe(1 + 2 ** -22); // the naive, wrong answer
    expect(fmaf(a, b, c)).toBe(1 + 2 ** -23);
    expect(exactFmaf(a, b, c)).toBe(1 + 2 ** -23);
    expect(fmaf(-a, b, -c)).toBe(-(1 + 2 ** -23));
  });

  it('equals exact rounding on constructed near-midpoint sums', () => {
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    let checked = 0;
    for (let i = 0; i < 4000; i++) {
      const scale = 2 ** Math.floor(rand() * 40 - 20);
      const c = Math.fround((1 + Math.floor(rand() * 2 ** 23) * 2 ** -23) * scale) * (rand() < 0.5 ? -1 : 1);
      const halfUlp = 2 ** (Math.floor(Math.log2(Math.abs(c))) - 24);
      const eps = 2 ** -Math.floor(1 + rand() * 23);
      const a = Math.fround((1 + (rand() < 0.5 ? -eps : eps)) * halfUlp) * (rand() < 0.5 ? -1 : 1);
      const b = Math.fround(1 + (rand() < 0.5 ? -eps : eps));
      expect(fmaf(a, b, c)).toBe(exactFmaf(a, b, c));
      checked++;
    }
    expect(checked).toBe(4000);
  });

  it('equals exact rounding on random float32 triples, zeros and subnormal results', () => {
    let seed = 99;
    const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const randFloat = (spread: number) =>
      Math.fround((rand() - 0.5) * 2 ** Math.floor(rand() * spread - spread / 2));
    for (let i = 0; i < 20000; i++) {
      const a = randFloat(40);
      const b = randFloat(40);
      const c = randFloat(60);
      expect(fmaf(a, b, c)).toBe(exactFmaf(a, b, c));
    }
    const tiny = 2 ** -140;
    expect(fmaf(tiny, 2 ** -5, 2 ** -149)).toBe(exactFmaf(tiny, 2 ** -5, 2 ** -149));
    expect(Object.is(fmaf(-0, 1, 0), 0)).toBe(true);
    expect(Object.is(fmaf(-0, 1, -0), -0)).toBe(true);
    expect(Object.is(fmaf(2, 3, -6), 0)).toBe(true);
  });
});
