/**
 * Sinusoidal timestep embeddings: diffusers' `get_timestep_embedding` / `Timesteps` (diffusers/models/embeddings.py),
 * after DDPM (Ho et al. 2020) and the Transformer's positional encoding.
 */
import { Tensor } from '@sdxs/tensor';
import { Cast, Concat, Cos, Mul, Pad, Sin, Unsqueeze, type Value } from '@sdxs/graph';

export interface TimestepEmbeddingOptions {
  /** `cos, sin` instead of `sin, cos` (every SD U-Net: true). */
  flipSinToCos: boolean;
  /** diffusers' `downscale_freq_shift` (the U-Net's `freq_shift`, 0 in SD). */
  downscaleFreqShift: number;
  /** Multiplies the angles; 1 in the U-Net. */
  scale?: number;
  maxPeriod?: number;
}

/**
 * The frequency table exp(−ln(max_period)·i / (half − shift)), i < half, computed step by step in float32 as
 * torch does (each intermediate rounded), so the angles t·f agree with diffusers' to the last bit of f.
 */
export function timestepFrequencies(dim: number, shift: number, maxPeriod = 10000): Float32Array {
  const half = Math.floor(dim / 2);
  const out = new Float32Array(half);
  const negLog = Math.fround(-Math.log(maxPeriod));
  const denom = Math.fround(half - shift);
  for (let i = 0; i < half; i++) out[i] = Math.exp(Math.fround(Math.fround(negLog * i) / denom));
  return out;
}

/**
 * `get_timestep_embedding`: timesteps of any shape [...] (float32) → [..., dim] in float32, the angles t·f
 * through Sin and Cos, concatenated (`cos, sin` when flipped), zero-padded by one column when `dim` is odd.
 *
 * @example
 * const tEmb = timestepEmbedding(timesteps, 320, { flipSinToCos: true, downscaleFreqShift: 0 }); // [B] -> [B, 320]
 */
export function timestepEmbedding(t: Value, dim: number, options: TimestepEmbeddingOptions): Value {
  const g = t.graph;
  const freqs = timestepFrequencies(dim, options.downscaleFreqShift, options.maxPeriod);
  const scale = options.scale ?? 1;
  const table = g.constant(new Tensor('float32', [freqs.length], scale === 1 ? freqs : freqs.map((f) => f * scale)), 'timestep_freqs');
  const angles = Mul(Unsqueeze(t.dtype === 'float32' ? t : Cast(t, 'float32'), [-1]), table);
  const sin = Sin(angles);
  const cos = Cos(angles);
  const emb = Concat(options.flipSinToCos ? [cos, sin] : [sin, cos], -1);
  return dim % 2 === 1 ? Pad(emb, [0, 1], { axes: [emb.rank - 1] }) : emb;
}
