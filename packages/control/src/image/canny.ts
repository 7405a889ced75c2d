/**
 * OpenCV's `cv2.Canny(image, threshold1, threshold2, apertureSize=3, L2gradient=False)`
 * (modules/imgproc/src/canny.cpp), bit for bit on 8-bit images of 1, 3 or 4 channels:
 * - gradients: `Sobel(src, CV_16S, 1, 0 | 0, 1, 3, 1, 0, BORDER_REPLICATE)` — no Gaussian blur, exact integers;
 * - magnitude |dx| + |dy| (or dx² + dy² with L2gradient); on colour input each pixel takes the channel with the
 *   largest magnitude (the first on ties), with that channel's dx and dy;
 * - non-maximum suppression along the gradient's sector, decided in 15-bit fixed point with
 *   TG22 = round(tan 22.5° · 2^15); the strict/non-strict comparisons are OpenCV's (`m > a && m >= b`);
 *   magnitudes outside the image count as 0;
 * - hysteresis: candidates with `m > low`, seeds with `m > high` (thresholds floored, swapped when low > high),
 *   grown through 8-connected candidates.
 * OpenCV's row ring buffers, stripes and `prev_flag` shortcuts only change the order of work, not the result,
 * so this computes whole-image arrays in two passes and one stack.
 */
import { channelsOf, type GrayImage, type Pixels } from './pixels.js';

export interface CannyOptions {
  /** Use the L2 magnitude √(dx² + dy²) (compared squared, as OpenCV does) instead of |dx| + |dy|. */
  l2Gradient?: boolean;
}

/** (int)(tan(22.5°) · 2^15 + 0.5), OpenCV's fixed-point sector boundary. */
const TG22 = 13573;

/** OpenCV's thresholds: swapped when out of order; with L2 gradients clamped to 32767 and squared; floored. */
function thresholds(low: number, high: number, l2: boolean): [number, number] {
  if (!Number.isFinite(low) || !Number.isFinite(high)) throw new RangeError(`Canny thresholds must be finite numbers, got ${low} and ${high}`);
  let [lo, hi] = low > high ? [high, low] : [low, high];
  if (l2) {
    lo = Math.min(32767, lo);
    hi = Math.min(32767, hi);
    if (lo > 0) lo *= lo;
    if (hi > 0) hi *= hi;
  }
  return [Math.floor(lo), Math.floor(hi)];
}

/**
 * Gradient pass: the magnitude of every pixel into `mag` (a (h+2)×(w+2) grid whose border stays 0) and the
 * Sobel derivatives of its strongest channel into `gx`, `gy` (h×w). The 3×3 Sobel is separable: per row, a
 * vertical [1 2 1] sum `vs` and difference `vd` of every column, then dx = vs[right] − vs[left] and
 * dy = vd[left] + 2·vd[centre] + vd[right]; the buffers carry one replicated column each side (BORDER_REPLICATE).
 */
function gradients(src: Uint8Array | Uint8ClampedArray, w: number, h: number, cn: number, l2: boolean, mag: Int32Array, gx: Int16Array, gy: Int16Array): void {
  const stride = w + 2;
  const row = w * cn;
  const vs = new Int32Array(row + 2 * cn);
  const vd = new Int32Array(row + 2 * cn);
  for (let i = 0; i < h; i++) {
    // BORDER_REPLICATE: the rows above the first and below the last are copies of them.
    const up = Math.max(i - 1, 0) * row;
    const mid = i * row;
    const dn = Math.min(i + 1, h - 1) * row;
    for (let q = 0; q < row; q++) {
      const a = src[up + q]!;
      const c = src[dn + q]!;
      vs[cn + q] = a + 2 * src[mid + q]! + c;
      vd[cn + q] = c - a;
    }
    for (let k = 0; k < cn; k++) {
      vs[k] = vs[cn + k]!;
      vd[k] = vd[cn + k]!;
      vs[row + cn + k] = vs[row + k]!;
      vd[row + cn + k] = vd[row + k]!;
    }
    const out = (i + 1) * stride + 1;
    const at = i * w;
    if (cn === 1 && !l2) rowL1Gray(vs, vd, w, mag, out, gx, gy, at);
    else if (cn === 3 && !l2) rowL1RGB(vs, vd, w, mag, out, gx, gy, at);
    else rowGeneric(vs, vd, w, cn, l2, mag, out, gx, gy, at);
  }
}

// The per-row kernels compute the same thing. The grey and RGB L1 ones are unrolled and branch-free (|v| as
// (v ^ v >> 31) − (v >> 31), the channel choice by masks) because they are the common cases and real images
// make the branches unpredictable: this halves their time in V8. In `vs`/`vd`, index q is the left neighbour.

function rowL1Gray(vs: Int32Array, vd: Int32Array, w: number, mag: Int32Array, out: number, gx: Int16Array, gy: Int16Array, at: number): void {
  for (let j = 0; j < w; j++) {
    const dx = vs[j + 2]! - vs[j]!;
    const dy = vd[j]! + 2 * vd[j + 1]! + vd[j + 2]!;
    mag[out + j] = (dx ^ (dx >> 31)) - (dx >> 31) + ((dy ^ (dy >> 31)) - (dy >> 31));
    gx[at + j] = dx;
    gy[at + j] = dy;
  }
}

function rowL1RGB(vs: Int32Array, vd: Int32Array, w: number, mag: Int32Array, out: number, gx: Int16Array, gy: Int16Array, at: number): void {
  for (let j = 0, q = 0; j < w; j++, q += 3) {
    const dx0 = vs[q + 6]! - vs[q]!;
    const dy0 = vd[q]! + 2 * vd[q + 3]! + vd[q + 6]!;
    const dx1 = vs[q + 7]! - vs[q + 1]!;
    const dy1 = vd[q + 1]! + 2 * vd[q + 4]! + vd[q + 7]!;
    const dx2 = vs[q + 8]! - vs[q + 2]!;
    const dy2 = vd[q + 2]! + 2 * vd[q + 5]! + vd[q + 8]!;
    const m0 = (dx0 ^ (dx0 >> 31)) - (dx0 >> 31) + ((dy0 ^ (dy0 >> 31)) - (dy0 >> 31));
    const m1 = (dx1 ^ (dx1 >> 31)) - (dx1 >> 31) + ((dy1 ^ (dy1 >> 31)) - (dy1 >> 31));
    const m2 = (dx2 ^ (dx2 >> 31)) - (dx2 >> 31) + ((dy2 ^ (dy2 >> 31)) - (dy2 >> 31));
    // All ones exactly when the later channel is strictly larger: the first channel wins ties, as in OpenCV.
    const s1 = (m0 - m1) >> 31;
    const m01 = m0 ^ ((m0 ^ m1) & s1);
    const dx01 = dx0 ^ ((dx0 ^ dx1) & s1);
    const dy01 = dy0 ^ ((dy0 ^ dy1) & s1);
    const s2 = (m01 - m2) >> 31;
    mag[out + j] = m01 ^ ((m01 ^ m2) & s2);
    gx[at + j] = dx01 ^ ((dx01 ^ dx2) & s2);
    gy[at + j] = dy01 ^ ((dy01 ^ dy2) & s2);
  }
}

function rowGeneric(vs: Int32Array, vd: Int32Array, w: number, cn: number, l2: boolean, mag: Int32Array, out: number, gx: Int16Array, gy: Int16Array, at: number): void {
  for (let j = 0; j < w; j++) {
    let best = -1;
    let bx = 0;
    let by = 0;
    for (let k = 0, q = j * cn; k < cn; k++, q++) {
      const dx = vs[q + 2 * cn]! - vs[q]!;
      const dy = vd[q]! + 2 * vd[q + cn]! + vd[q + 2 * cn]!;
      const m = l2 ? dx * dx + dy * dy : (dx < 0 ? -dx : dx) + (dy < 0 ? -dy : dy);
      if (m > best) {
        best = m;
        bx = dx;
        by = dy;
      }
    }
    mag[out + j] = best;
    gx[at + j] = bx;
    gy[at + j] = by;
  }
}

/**
 * Edges of an 8-bit image as `cv2.Canny(image, low, high)` computes them (aperture 3): 255 on edges, 0 elsewhere.
 * Colour input works per pixel on the channel with the strongest gradient; a 4-channel array is treated as
 * OpenCV treats one (alpha is a fourth channel; a constant alpha never wins).
 *
 * @example
 * const edges = canny({ width, height, data: rgb }, 100, 200); // { width, height, data: Uint8Array (0 | 255), channels: 1 }
 */
export function canny(image: Pixels, low: number, high: number, options: CannyOptions = {}): GrayImage {
  const cn = channelsOf(image, 'Canny input');
  const { width: w, height: h } = image;
  const l2 = options.l2Gradient ?? false;
  const [lo, hi] = thresholds(low, high, l2);
  const mag = new Int32Array((h + 2) * (w + 2));
  const gx = new Int16Array(w * h);
  const gy = new Int16Array(w * h);
  gradients(image.data, w, h, cn, l2, mag, gx, gy);
  // Map, on the padded grid of `mag`: 0 = candidate, 1 = not an edge (also the whole border), 2 = edge.
  const map = new Uint8Array((h + 2) * (w + 2)).fill(1);
  const stack = new Int32Array(w * h);
  const seeds = suppress(mag, gx, gy, w, h, lo, hi, map, stack);
  hysteresis(map, w + 2, stack, seeds);
  const data = new Uint8Array(w * h);
  for (let i = 0; i < h; i++) edgeRow(map, (i + 1) * (w + 2) + 1, data, i * w, w);
  return { width: w, height: h, data, channels: 1 };
}

// The passes are separate functions so that V8 optimises each on its own type feedback (one large function
// was deoptimised again and again on paths its first call had not reached).

/**
 * Non-maximum suppression: pixels with `m > lo` that beat their two neighbours across the gradient become
 * candidates (0 in `map`), and edges (2, pushed on `stack`) when `m > hi`. Returns the stack height.
 */
function suppress(mag: Int32Array, gx: Int16Array, gy: Int16Array, w: number, h: number, lo: number, hi: number, map: Uint8Array, stack: Int32Array): number {
  const stride = w + 2;
  let top = 0;
  for (let i = 0; i < h; i++) {
    for (let j = 0, at = (i + 1) * stride + 1, g = i * w; j < w; j++, at++, g++) {
      const m = mag[at]!;
      if (m <= lo) continue;
      // The gradient's sector in 15-bit fixed point: |dy|·2^15 against |dx|·tan 22.5° and |dx|·tan 67.5°.
      const dx = gx[g]!;
      const dy = gy[g]!;
      const x = dx < 0 ? -dx : dx;
      const y = (dy < 0 ? -dy : dy) * 32768;
      const tg22x = x * TG22;
      let peak: boolean;
      if (y < tg22x) peak = m > mag[at - 1]! && m >= mag[at + 1]!;
      else if (y > tg22x + x * 65536) peak = m > mag[at - stride]! && m >= mag[at + stride]!;
      // Diagonal: same signs compare up-left and down-right (OpenCV's s = 1), opposite signs up-right and down-left.
      else if ((dx ^ dy) < 0) peak = m > mag[at - stride + 1]! && m > mag[at + stride - 1]!;
      else peak = m > mag[at - stride - 1]! && m > mag[at + stride + 1]!;
      if (!peak) continue;
      if (m > hi) {
        map[at] = 2;
        stack[top++] = at;
      } else map[at] = 0;
    }
  }
  return top;
}

/** Hysteresis: every candidate 8-connected to an edge becomes one. A pixel is pushed once (it is marked first). */
function hysteresis(map: Uint8Array, stride: number, stack: Int32Array, seeds: number): void {
  let top = seeds;
  const push = (at: number) => {
    if (map[at] === 0) {
      map[at] = 2;
      stack[top++] = at;
    }
  };
  while (top > 0) {
    const at = stack[--top]!;
    push(at - 1);
    push(at + 1);
    push(at - stride - 1);
    push(at - stride);
    push(at - stride + 1);
    push(at + stride - 1);
    push(at + stride);
    push(at + stride + 1);
  }
}

function edgeRow(map: Uint8Array, from: number, out: Uint8Array, to: number, w: number): void {
  for (let j = 0; j < w; j++) out[to + j] = map[from + j] === 2 ? 255 : 0;
}
