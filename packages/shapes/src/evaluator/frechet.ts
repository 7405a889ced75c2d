// FID's Fréchet distance between two Gaussians fitted to feature sets, in float64 without a linear-algebra library:
// d² = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2·tr √(Σ₁Σ₂), with tr √(Σ₁Σ₂) = tr √(A Σ₂ A), A = √Σ₁ (symmetric, so both
// square roots come from symmetric eigendecompositions).

/** Mean and covariance (unbiased, as numpy's np.cov) of `n` rows of `dim` features. */
export function featureStatistics(features: Float32Array | Float64Array, n: number, dim: number): { mean: Float64Array; cov: Float64Array } {
  if (n < 2) throw new RangeError(`featureStatistics: need at least 2 samples, got ${n}`);
  if (features.length !== n * dim) throw new RangeError(`featureStatistics: ${features.length} values are not ${n}×${dim}`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j]! += features[i * dim + j]!;
  for (let j = 0; j < dim; j++) mean[j]! /= n;
  const cov = new Float64Array(dim * dim);
  const row = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) row[j] = features[i * dim + j]! - mean[j]!;
    for (let a = 0; a < dim; a++) {
      const ra = row[a]!;
      if (ra === 0) continue;
      for (let b = a; b < dim; b++) cov[a * dim + b]! += ra * row[b]!;
    }
  }
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const v = cov[a * dim + b]! / (n - 1);
      cov[a * dim + b] = v;
      cov[b * dim + a] = v;
    }
  }
  return { mean, cov };
}

/**
 * Eigenvalues and eigenvectors of a symmetric matrix (cyclic Jacobi rotations): `values[k]`, `vectors` column k
 * (row-major n×n). Accurate to rounding for the ≤ 512-wide covariances FID uses.
 */
export function symmetricEigen(m: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(m);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < n; p++) {
      diag += a[p * n + p]! ** 2;
      for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i]!;
  return { values, vectors: v };
}

function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j]! += aik * b[k * n + j]!;
    }
  }
  return out;
}

/** √M of a symmetric positive semi-definite matrix (negative rounding-noise eigenvalues taken as 0). */
function sqrtPsd(m: Float64Array, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(m, n);
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const s = Math.sqrt(Math.max(0, values[k]!));
    if (s === 0) continue;
    for (let i = 0; i < n; i++) {
      const vik = vectors[i * n + k]! * s;
      for (let j = 0; j < n; j++) out[i * n + j]! += vik * vectors[j * n + k]!;
    }
  }
  return out;
}

/** The Fréchet distance between N(μ₁, Σ₁) and N(μ₂, Σ₂) (what FID reports, squared-distance form). */
export function frechetDistance(s1: { mean: Float64Array; cov: Float64Array }, s2: { mean: Float64Array; cov: Float64Array }): number {
  const n = s1.mean.length;
  if (s2.mean.length !== n) throw new RangeError(`frechetDistance: ${n} vs ${s2.mean.length} features`);
  let d = 0;
  for (let i = 0; i < n; i++) d += (s1.mean[i]! - s2.mean[i]!) ** 2;
  let tr = 0;
  for (let i = 0; i < n; i++) tr += s1.cov[i * n + i]! + s2.cov[i * n + i]!;
  const a = sqrtPsd(s1.cov, n);
  const m = matmul(matmul(a, s2.cov, n), a, n);
  // Symmetrise away rounding before the eigendecomposition.
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) m[i * n + j] = m[j * n + i] = 0.5 * (m[i * n + j]! + m[j * n + i]!);
  const { values } = symmetricEigen(m, n);
  let trSqrt = 0;
  for (const v of values) trSqrt += Math.sqrt(Math.max(0, v));
  return d + tr - 2 * trSqrt;
}
