/**
 * Resize NCHW float32 tensors as `torch.nn.functional.interpolate(x, size=(h, w), mode=...)` does on the
 * CPU, which is how diffusers' `VaeImageProcessor.resize` resizes tensors. Index arithmetic follows
 * aten/src/ATen/native/UpSample.h in float32; the kernels follow aten/src/ATen/native/cpu/UpSampleKernel.cpp.
 * - 'nearest' (legacy): src = min(floor(dst * scale), in - 1) with scale = float(in) / out (`nearest_idx`).
 * - 'bilinear', align_corners=False, no antialias: src = max(scale * (dst + 0.5) - 0.5, 0), weights from
 *   its fractional part, the far neighbour clamped to the edge (`compute_source_index_and_lambda`).
 *   PyTorch blends with one of two kernels, and x86-64 builds fuse their multiply-adds (FMA):
 *   when out_h + out_w <= 128 (or with one thread and C == 3) the channels-last kernel sums four
 *   taps with precomputed 2-D weights; otherwise the generic kernel blends along W, then along H.
 *   We pick by the size rule, reproducing each kernel's float32 operation order, which matched
 *   PyTorch 2.13 (x86-64, AVX-512) bit for bit in our checks.
 */

import { Tensor } from '../tensor.js';
import { fmaf } from '../random/fma.js';
import { checkImageSize } from './validate.js';

export type ResizeMode = 'nearest' | 'bilinear';

/** PyTorch's legacy nearest source index for each output index along one axis. */
function nearestIndices(inSize: number, outSize: number): Int32Array {
  const index = new Int32Array(outSize);
  const scale = Math.fround(inSize / outSize);
  for (let o = 0; o < outSize; o++) index[o] = Math.min(Math.floor(Math.fround(o * scale)), inSize - 1);
  return index;
}

/** Source indices and weights along one axis for align_corners=False linear interpolation. */
interface LinearAxis {
  i0: Int32Array;
  i1: Int32Array;
  w0: Float32Array;
  w1: Float32Array;
}

function linearAxis(inSize: number, outSize: number): LinearAxis {
  const axis: LinearAxis = {
    i0: new Int32Array(outSize),
    i1: new Int32Array(outSize),
    w0: new Float32Array(outSize),
    w1: new Float32Array(outSize),
  };
  const scale = Math.fround(inSize / outSize);
  for (let o = 0; o < outSize; o++) {
    if (outSize === inSize) {
      axis.i0[o] = o;
      axis.i1[o] = o;
      axis.w0[o] = 1;
      continue;
    }
    const real = Math.max(fmaf(scale, o + 0.5, -0.5), 0);
    const i0 = Math.min(Math.trunc(real), inSize - 1);
    const lambda1 = Math.min(Math.max(Math.fround(real - i0), 0), 1);
    axis.i0[o] = i0;
    axis.i1[o] = i0 < inSize - 1 ? i0 + 1 : i0;
    axis.w1[o] = lambda1;
    axis.w0[o] = Math.fround(1 - lambda1);
  }
  return axis;
}

interface Planes {
  src: Float32Array;
  dst: Float32Array;
  count: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
}

function resizeNearest({ src, dst, count, inH, inW, outH, outW }: Planes): void {
  const rows = nearestIndices(inH, outH);
  const cols = nearestIndices(inW, outW);
  for (let p = 0, d = 0; p < count; p++) {
    const s = p * inH * inW;
    for (let y = 0; y < outH; y++) {
      const row = s + rows[y]! * inW;
      for (let x = 0; x < outW; x++) dst[d++] = src[row + cols[x]!]!;
    }
  }
}

/** PyTorch's generic kernel: t0 * w0 + t1 * w1 along W, then the same along H, each as one FMA. */
function bilinearSeparable({ src, dst, count, inH, inW, outH, outW }: Planes): void {
  const ys = linearAxis(inH, outH);
  const xs = linearAxis(inW, outW);
  for (let p = 0, d = 0; p < count; p++) {
    const s = p * inH * inW;
    for (let y = 0; y < outH; y++) {
      const r0 = s + ys.i0[y]! * inW;
      const r1 = s + ys.i1[y]! * inW;
      const wy0 = ys.w0[y]!;
      const wy1 = ys.w1[y]!;
      for (let x = 0; x < outW; x++) {
        const c0 = xs.i0[x]!;
        const c1 = xs.i1[x]!;
        const wx0 = xs.w0[x]!;
        const wx1 = xs.w1[x]!;
        const top = fmaf(src[r0 + c0]!, wx0, Math.fround(src[r0 + c1]! * wx1));
        const bottom = fmaf(src[r1 + c0]!, wx0, Math.fround(src[r1 + c1]! * wx1));
        dst[d++] = fmaf(top, wy0, Math.fround(bottom * wy1));
      }
    }
  }
}

/** PyTorch's channels-last kernel: four taps with weights h·w, accumulated from the (0, 1) tap by FMAs. */
function bilinearFourTap({ src, dst, count, inH, inW, outH, outW }: Planes): void {
  const ys = linearAxis(inH, outH);
  const xs = linearAxis(inW, outW);
  const f = Math.fround;
  for (let p = 0, d = 0; p < count; p++) {
    const s = p * inH * inW;
    for (let y = 0; y < outH; y++) {
      const r0 = s + ys.i0[y]! * inW;
      const r1 = s + ys.i1[y]! * inW;
      const h0 = ys.w0[y]!;
      const h1 = ys.w1[y]!;
      for (let x = 0; x < outW; x++) {
        const c0 = xs.i0[x]!;
        const c1 = xs.i1[x]!;
        const w0 = xs.w0[x]!;
        const w1 = xs.w1[x]!;
        let acc = f(src[r0 + c1]! * f(h0 * w1));
        acc = fmaf(src[r0 + c0]!, f(h0 * w0), acc);
        acc = fmaf(src[r1 + c0]!, f(h1 * w0), acc);
        dst[d++] = fmaf(src[r1 + c1]!, f(h1 * w1), acc);
      }
    }
  }
}

/**
 * Resize a `[N, C, H, W]` float32 tensor to `height` × `width` with PyTorch's `interpolate` semantics
 * ('nearest' is PyTorch's default and diffusers' choice for tensors).
 *
 * @example
 * const small = resize(image, 256, 256, 'bilinear');
 */
export function resize(t: Tensor<'float32'>, height: number, width: number, mode: ResizeMode = 'nearest'): Tensor<'float32'> {
  if (t.dtype !== 'float32') throw new TypeError(`resize needs a float32 tensor, got ${t.dtype}`);
  const [batch, channels, inH, inW] = t.shape;
  if (t.rank !== 4 || batch === undefined || channels === undefined || inH === undefined || inW === undefined) {
    throw new RangeError(`resize needs an NCHW tensor [N, C, H, W], got [${t.shape.join(', ')}]`);
  }
  checkImageSize(inW, inH, 'resize input');
  checkImageSize(width, height, 'resize output');
  if (mode !== 'nearest' && mode !== 'bilinear') throw new TypeError(`resize mode must be 'nearest' or 'bilinear', got '${String(mode)}'`);
  const dst = new Float32Array(batch * channels * height * width);
  const planes: Planes = { src: t.data, dst, count: batch * channels, inH, inW, outH: height, outW: width };
  if (height === inH && width === inW) dst.set(t.data);
  else if (mode === 'nearest') resizeNearest(planes);
  else if (height + width <= 128) bilinearFourTap(planes);
  else bilinearSeparable(planes);
  return new Tensor('float32', [batch, channels, height, width], dst);
}
