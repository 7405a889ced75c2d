// FID's pieces in float64: feature statistics, the symmetric eigendecomposition, the Fréchet distance, each against
// an independent computation (naive sums, closed forms).
import { describe, expect, it } from 'vitest';
import { featureStatistics, frechetDistance, symmetricEigen } from '@sdxs/shapes';

/** A seeded generator for test data (mulberry32), with Gaussian draws by Box–Muller. */
function rng(seed: number): { uniform: () => number; normal: () => number } {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += a[i * n + k]! * b[k * n + j]!;
    out[i * n + j] = s;
  }
  return out;
}

function transpose(a: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[j * n + i] = a[i * n + j]!;
  return out;
}

function randomSymmetric(n: number, seed: number): Float64Array {
  const { normal } = rng(seed);
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) m[i * n + j] = m[j * n + i] = normal();
  return m;
}

/** A random orthogonal matrix (Gram–Schmidt on Gaussian columns), built without symmetricEigen. */
function randomOrthogonal(n: number, seed: number): Float64Array {
  const { normal } = rng(seed);
  const q = new Float64Array(n * n); // columns
  for (let k = 0; k < n; k++) {
    const v = Array.from({ length: n }, normal);
    for (let j = 0; j < k; j++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += v[i]! * q[i * n + j]!;
      for (let i = 0; i < n; i++) v[i]! -= dot * q[i * n + j]!;
    }
    const norm = Math.hypot(...v);
    for (let i = 0; i < n; i++) q[i * n + k] = v[i]! / norm;
  }
  return q;
}

/** Q diag(d) Qᵀ. */
function withEigen(q: Float64Array, d: readonly number[], n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += q[i * n + k]! * d[k]! * q[j * n + k]!;
    out[i * n + j] = s;
  }
  return out;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function vector(n: number, seed: number, scale = 1): Float64Array {
  const { normal } = rng(seed);
  return Float64Array.from({ length: n }, () => normal() * scale);
}

describe('symmetricEigen', () => {
  it.each([1, 2, 3, 5, 8, 17, 32, 64])('reconstructs a random symmetric %i×%i matrix: V diag(λ) Vᵀ = M, VᵀV = I', (n) => {
    const m = randomSymmetric(n, 100 + n);
    const { values, vectors } = symmetricEigen(m, n);
    expect(values).toHaveLength(n);
    expect(vectors).toHaveLength(n * n);
    const scale = maxAbs(m);
    expect(maxAbsDiff(withEigen(vectors, [...values], n), m)).toBeLessThan(1e-12 * scale * n);
    const identity = new Float64Array(n * n);
    for (let i = 0; i < n; i++) identity[i * n + i] = 1;
    expect(maxAbsDiff(matmul(transpose(vectors, n), vectors, n), identity)).toBeLessThan(1e-12 * n);
    // M v_k = λ_k v_k column by column (the pairing of values with columns, not only the product).
    const mv = matmul(m, vectors, n);
    for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) expect(Math.abs(mv[i * n + k]! - values[k]! * vectors[i * n + k]!)).toBeLessThan(1e-12 * scale * n);
    // The trace is the sum of the eigenvalues.
    let trace = 0;
    for (let i = 0; i < n; i++) trace += m[i * n + i]!;
    expect(Math.abs(values.reduce((a, b) => a + b, 0) - trace)).toBeLessThan(1e-12 * scale * n);
  });

  it('finds known eigenvalues, repeated and zero ones included, and leaves its input alone', () => {
    const n = 6;
    const q = randomOrthogonal(n, 7);
    const want = [5, 3, 3, 1e-3, 0, -2];
    const m = withEigen(q, want, n);
    const copy = Float64Array.from(m);
    const { values } = symmetricEigen(m, n);
    expect([...m]).toEqual([...copy]);
    const got = [...values].sort((a, b) => b - a);
    const sorted = [...want].sort((a, b) => b - a);
    for (let k = 0; k < n; k++) expect(Math.abs(got[k]! - sorted[k]!)).toBeLessThan(1e-12);
  });
});

describe('featureStatistics', () => {
  /** Mean first, then the unbiased covariance from the centred rows (numpy's np.cov(rowvar=False)). */
  function naive(f: ArrayLike<number>, n: number, dim: number): { mean: number[]; cov: number[] } {
    const mean = Array.from({ length: dim }, (_, j) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += f[i * dim + j]!;
      return s / n;
    });
    const cov: number[] = [];
    for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += (f[i * dim + a]! - mean[a]!) * (f[i * dim + b]! - mean[b]!);
      cov.push(s / (n - 1));
    }
    return { mean, cov };
  }

  it.each([
    [2, 3],
    [10, 4],
    [50, 16],
    [7, 20], // fewer samples than features: a singular covariance
  ])('equals a naive two-pass mean and unbiased covariance (n = %i, dim = %i)', (n, dim) => {
    const { normal } = rng(n * 31 + dim);
    // A large offset (1000) against per-column scales 1..dim: a one-pass Σx² − n·μ² formula would lose ~6 digits.
    const f64 = Float64Array.from({ length: n * dim }, (_, i) => 1000 + (1 + (i % dim)) * normal());
    const f32 = Float32Array.from(f64);
    for (const f of [f64, f32]) {
      const got = featureStatistics(f, n, dim);
      const want = naive(f, n, dim);
      expect(got.mean).toHaveLength(dim);
      expect(got.cov).toHaveLength(dim * dim);
      expect(maxAbsDiff(got.mean, want.mean)).toBeLessThan(1e-12 * maxAbs(want.mean));
      expect(maxAbsDiff(got.cov, want.cov)).toBeLessThan(1e-12 * maxAbs(want.cov));
      for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) expect(got.cov[a * dim + b]).toBe(got.cov[b * dim + a]);
    }
  });

  it('gives the unbiased variance of a known column (divides by n − 1)', () => {
    // Rows (1, 10), (2, 10), (3, 10), (6, 10): means 3 and 10; variance of column 0 is (4 + 1 + 0 + 9) / 3.
    const { mean, cov } = featureStatistics(Float64Array.of(1, 10, 2, 10, 3, 10, 6, 10), 4, 2);
    expect([...mean]).toEqual([3, 10]);
    expect(cov[0]).toBeCloseTo(14 / 3, 14);
    expect([...cov.subarray(1)]).toEqual([0, 0, 0]);
  });

  it('rejects fewer than two samples and a size that is not n × dim', () => {
    expect(() => featureStatistics(new Float64Array(3), 1, 3)).toThrow(RangeError);
    expect(() => featureStatistics(new Float64Array(0), 0, 3)).toThrow(RangeError);
    expect(() => featureStatistics(new Float64Array(7), 2, 3)).toThrow(RangeError);
  });
});

describe('frechetDistance', () => {
  function stats(n: number, seed: number): { mean: Float64Array; cov: Float64Array } {
    const { normal } = rng(seed);
    const rows = 3 * n;
    const f = Float64Array.from({ length: rows * n }, normal);
    // Correlated features: mix the columns so that the covariance is full.
    const mix = randomSymmetric(n, seed + 1);
    const mixed = new Float64Array(rows * n);
    for (let i = 0; i < rows; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += f[i * n + k]! * mix[k * n + j]!;
      mixed[i * n + j] = s + j;
    }
    return featureStatistics(mixed, rows, n);
  }

  it.each([1, 4, 16, 48])('is ≈ 0 between identical statistics (%i features)', (n) => {
    const s = stats(n, 11 * n);
    let trace = 0;
    for (let i = 0; i < n; i++) trace += s.cov[i * n + i]!;
    expect(Math.abs(frechetDistance(s, s))).toBeLessThan(1e-9 * trace);
    expect(Math.abs(frechetDistance(s, { mean: Float64Array.from(s.mean), cov: Float64Array.from(s.cov) }))).toBeLessThan(1e-9 * trace);
  });

  it('is ≈ 0 between identical singular statistics (fewer samples than features, as FID often has)', () => {
    const n = 24;
    const { normal } = rng(5);
    const s = featureStatistics(Float64Array.from({ length: 6 * n }, normal), 6, n);
    let trace = 0;
    for (let i = 0; i < n; i++) trace += s.cov[i * n + i]!;
    const d = frechetDistance(s, s);
    expect(Number.isFinite(d)).toBe(true);
    // √ of a rank-5 matrix: eigenvalues at rounding level (≈ 1e-16·λmax) contribute up to √(1e-16·λmax) each.
    expect(Math.abs(d)).toBeLessThan(1e-6 * trace);
  });

  it('equals Σ(√a − √b)² + ‖μ₁ − μ₂‖² for diagonal covariances', () => {
    const n = 12;
    const { uniform } = rng(3);
    const a = Array.from({ length: n }, () => 0.1 + 4 * uniform());
    const b = Array.from({ length: n }, () => 0.1 + 4 * uniform());
    a[3] = 0; // a zero variance on one side
    const diag = (d: number[]) => {
      const m = new Float64Array(n * n);
      d.forEach((v, i) => (m[i * n + i] = v));
      return m;
    };
    const mu1 = vector(n, 1);
    const mu2 = vector(n, 2);
    let want = 0;
    for (let i = 0; i < n; i++) want += (Math.sqrt(a[i]!) - Math.sqrt(b[i]!)) ** 2 + (mu1[i]! - mu2[i]!) ** 2;
    const got = frechetDistance({ mean: mu1, cov: diag(a) }, { mean: mu2, cov: diag(b) });
    expect(Math.abs(got - want)).toBeLessThan(1e-12 * want);
    // Symmetric in its arguments.
    expect(Math.abs(frechetDistance({ mean: mu2, cov: diag(b) }, { mean: mu1, cov: diag(a) }) - want)).toBeLessThan(1e-12 * want);
  });

  it.each([3, 10, 32])('matches the closed form for commuting full covariances (%i features)', (n) => {
    // Σ₁ = Q diag(a) Qᵀ, Σ₂ = Q diag(b) Qᵀ: tr √(Σ₁Σ₂) = Σ √(a·b), so d² = ‖μ₁ − μ₂‖² + Σ(√a − √b)².
    const q = randomOrthogonal(n, 40 + n);
    const { uniform } = rng(50 + n);
    const a = Array.from({ length: n }, () => 0.05 + 3 * uniform());
    const b = Array.from({ length: n }, () => 0.05 + 3 * uniform());
    const mu1 = vector(n, 60 + n);
    const mu2 = vector(n, 70 + n, 0.5);
    let want = 0;
    for (let i = 0; i < n; i++) want += (Math.sqrt(a[i]!) - Math.sqrt(b[i]!)) ** 2 + (mu1[i]! - mu2[i]!) ** 2;
    const got = frechetDistance({ mean: mu1, cov: withEigen(q, a, n) }, { mean: mu2, cov: withEigen(q, b, n) });
    expect(Math.abs(got - want)).toBeLessThan(1e-10 * want);
  });

  it('matches the 2×2 closed form for non-commuting covariances', () => {
    // For 2×2 M = Σ₁Σ₂ with positive eigenvalues, tr √M = √(tr M + 2√det M).
    const s1 = Float64Array.of(2, 0.7, 0.7, 1);
    const s2 = Float64Array.of(0.5, -0.3, -0.3, 3);
    const m = matmul(s1, s2, 2);
    const det = (x: Float64Array) => x[0]! * x[3]! - x[1]! * x[2]!;
    const trSqrt = Math.sqrt(m[0]! + m[3]! + 2 * Math.sqrt(det(s1) * det(s2)));
    const mu1 = Float64Array.of(1, -1);
    const mu2 = Float64Array.of(0.5, 2);
    const want = (1 - 0.5) ** 2 + (-1 - 2) ** 2 + 2 + 1 + 0.5 + 3 - 2 * trSqrt;
    expect(Math.abs(frechetDistance({ mean: mu1, cov: s1 }, { mean: mu2, cov: s2 }) - want)).toBeLessThan(1e-12 * want);
  });

  it('rejects statistics of different widths', () => {
    const s = stats(3, 1);
    const t = stats(4, 2);
    expect(() => frechetDistance(s, t)).toThrow(RangeError);
  });
});
