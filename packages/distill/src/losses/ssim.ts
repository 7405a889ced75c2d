import { Add, Concat, Conv, Div, GraphError, Mul, ReduceMean, Reshape, Split, Sub, type Value } from '@sdxs/graph';
import { Tensor } from '@sdxs/tensor';
import { checkPair, staticDim } from './_check.js';

export interface SsimOptions {
  /** Gaussian window size (default 11). */
  windowSize?: number;
  /** Gaussian window sigma (default 1.5). */
  sigma?: number;
  /** Value range of the images: 2 for [−1, 1] (default), 1 for [0, 1], 255 for bytes. */
  dataRange?: number;
  /** Stabilisers: C1 = (k1·dataRange)², C2 = (k2·dataRange)² (defaults 0.01 and 0.03). */
  k1?: number;
  k2?: number;
}

/**
 * `_fspecial_gauss_1d` of pytorch_msssim: exp(−c²/2σ²) over c = −⌊size/2⌋ … , normalised to sum 1, in float32
 * as torch computes it.
 */
export function gaussianWindow(size: number, sigma: number): Float32Array {
  const g = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const c = Math.fround(i - Math.floor(size / 2));
    g[i] = Math.exp(-Math.fround(c * c) / Math.fround(2 * sigma * sigma));
  }
  let sum = 0;
  for (const v of g) sum = Math.fround(sum + v);
  for (let i = 0; i < size; i++) g[i] = Math.fround(g[i]! / sum);
  return g;
}

/**
 * SSIM as pytorch_msssim's `ssim(x, y, data_range, size_average=True)`: per channel, local means, variances and
 * covariance under a separable Gaussian window applied 'valid' (no padding); the SSIM map
 * (2μxμy + C1)(2σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)) averaged over every position, channel and image,
 * a scalar []. Used as a similarity (1 = identical); for a loss take 1 − ssim. Eq. 10 of the paper matches
 * multi-layer features with it. `x`, `y`: [N, C, H, W] with static H, W ≥ the window.
 *
 * @example
 * const loss = Sub(1, ssim(studentFeatures, stopGradient(teacherFeatures), { dataRange: 2 }));
 */
export function ssim(x: Value, y: Value, options: SsimOptions = {}): Value {
  const op = 'ssim';
  checkPair(op, x, y);
  if (x.rank !== 4) throw new GraphError(op, `expects [N, C, H, W], got ${x}`);
  const { windowSize = 11, sigma = 1.5, dataRange = 2, k1 = 0.01, k2 = 0.03 } = options;
  const h = staticDim(op, x, 2, 'the Gaussian window');
  const w = staticDim(op, x, 3, 'the Gaussian window');
  if (h < windowSize || w < windowSize) throw new GraphError(op, `images of ${h}×${w} are smaller than the ${windowSize}×${windowSize} window`);
  const g = x.graph;
  const win = gaussianWindow(windowSize, sigma);
  const vertical = g.constant(new Tensor('float32', [1, 1, windowSize, 1], win.slice()), 'ssim.window_h');
  const horizontal = g.constant(new Tensor('float32', [1, 1, 1, windowSize], win.slice()), 'ssim.window_w');
  // Every channel is filtered alike: fold channels into the batch, and the five maps (x, y, x², y², xy) too, so
  // one pair of 1-D convolutions filters them all.
  const planes = (v: Value) => Reshape(v, [-1, 1, h, w]);
  const stacked = Concat([planes(x), planes(y), planes(Mul(x, x)), planes(Mul(y, y)), planes(Mul(x, y))], 0);
  const filtered = Conv(Conv(stacked, vertical), horizontal);
  const [mx, my, exx, eyy, exy] = Split(filtered, 5, 0) as [Value, Value, Value, Value, Value];
  const c1 = (k1 * dataRange) ** 2;
  const c2 = (k2 * dataRange) ** 2;
  const mxx = Mul(mx, mx);
  const myy = Mul(my, my);
  const mxy = Mul(mx, my);
  const sxx = Sub(exx, mxx);
  const syy = Sub(eyy, myy);
  const sxy = Sub(exy, mxy);
  const cs = Div(Add(Mul(sxy, 2), c2), Add(Add(sxx, syy), c2));
  const map = Mul(Div(Add(Mul(mxy, 2), c1), Add(Add(mxx, myy), c1)), cs);
  // Every channel has as many positions, so the mean of the per-channel means is the mean of the whole map.
  return ReduceMean(map, undefined, false);
}
