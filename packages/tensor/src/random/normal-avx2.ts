/**
 * PyTorch's vectorised normal fill for contiguous float32 tensors of 16 or more elements on an
 * x86-64 CPU with AVX2 (`normal_fill_AVX2` / `normal_fill_16_AVX2` in
 * aten/src/ATen/native/cpu/DistributionTemplates.h), emulated over many lanes at a time.
 */

import { logPs, MAX_LANES, sincosPs } from './avx-mathfun.js';
import type { MT19937 } from './mt19937.js';

/** Lanes (pairs of outputs) per pass: 64 blocks of 16, small enough to stay in L1. */
const CHUNK_LANES = MAX_LANES;
const logU1 = new Float32Array(CHUNK_LANES);
const theta = new Float32Array(CHUNK_LANES);
const sinT = new Float32Array(CHUNK_LANES);
const cosT = new Float32Array(CHUNK_LANES);

/**
 * Box–Muller on `blocks` consecutive blocks of 16 uniforms from `data[offset]`, in place, as
 * `normal_fill_16_AVX2` does each: lane j of a block pairs u1 = 1 - data[j] with u2 = data[j + 8]
 * and writes r cos(theta) to j and r sin(theta) to j + 8.
 */
export function normalFill16(data: Float32Array, offset: number, blocks: number): void {
  const TWO_PI = Math.fround(2 * Math.PI); // _mm256_set1_ps(2.0f * c10::pi<double>)
  for (let first = 0; first < blocks; first += CHUNK_LANES / 8) {
    const count = Math.min(blocks - first, CHUNK_LANES / 8);
    const lanes = count * 8;
    const start = offset + first * 16;
    for (let b = 0, lane = 0; b < count; b++) {
      for (let j = start + b * 16, end = j + 8; j < end; j++, lane++) {
        logU1[lane] = 1 - data[j]!; // exact: the uniforms are multiples of 2^-24 in [0, 1)
        theta[lane] = TWO_PI * data[j + 8]!; // the Float32Array store rounds, as mul_ps does
      }
    }
    logPs(logU1, logU1, lanes);
    sincosPs(theta, sinT, cosT, lanes);
    for (let b = 0, lane = 0; b < count; b++) {
      for (let j = start + b * 16, end = j + 8; j < end; j++, lane++) {
        const radius = Math.fround(Math.sqrt(-2 * logU1[lane]!)); // correctly rounded via float64
        // `fmadd(n, std, mean)` with std = 1, mean = 0 is `n + 0` (it turns -0 into +0).
        data[j] = Math.fround(radius * cosT[lane]!) + 0;
        data[j + 8] = Math.fround(radius * sinT[lane]!) + 0;
      }
    }
  }
}

/**
 * Fills `data` (length >= 16) with standard normals the way `normal_fill_AVX2` does: uniforms for
 * the whole buffer first, Box–Muller per block of 16, and when the length is not a multiple of 16
 * the last 16 values redrawn from 16 fresh uniforms and transformed again.
 *
 * Uniforms and transform are interleaved chunk by chunk here, which draws the same stream (a block
 * reads only its own uniforms, and they are drawn in order) while the chunk is still in cache.
 */
export function normalFillAvx2(data: Float32Array, engine: MT19937): void {
  const size = data.length;
  const blocks = Math.floor(size / 16);
  const chunkBlocks = CHUNK_LANES / 8;
  for (let block = 0; block < blocks; block += chunkBlocks) {
    const count = Math.min(chunkBlocks, blocks - block);
    engine.fillUniform24(data, block * 16, count * 16);
    normalFill16(data, block * 16, count);
  }
  if (size % 16 !== 0) {
    engine.fillUniform24(data, blocks * 16, size % 16); // drawn, then overwritten: as in torch
    engine.fillUniform24(data, size - 16, 16);
    normalFill16(data, size - 16, 1);
  }
}
