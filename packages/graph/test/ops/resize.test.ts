import { describe, expect, it } from 'vitest';
import { Graph, Resize, type ResizeAttrs } from '@sdxs/graph';
import { shapeSize, stridesOf, type Tensor } from '@sdxs/tensor';
import { expectClose, randomTensor, runGraph } from '../harness.js';
import { F16_ATOL, F16_RTOL, roundedF16, toF16, widen } from './f16.js';
import { unravel } from './ref.js';

/** Per output position along one axis: the input indices it reads and their weights. */
type Taps = (o: number) => [number, number][];

/** Separable resampling: out[o] = Σ over the taps of every axis of Π weights · x[indices]. */
function resample(x: Tensor<'float32'>, outShape: number[], taps: Taps[]): number[] {
  const st = stridesOf(x.shape);
  return Array.from({ length: shapeSize(outShape) }, (_, o) => {
    let acc = [{ at: 0, w: 1 }];
    unravel(o, outShape).forEach((oi, a) => {
      acc = acc.flatMap(({ at, w }) => taps[a]!(oi).map(([i, wi]) => ({ at: at + i * st[a]!, w: w * wi })));
    });
    return acc.reduce((s, { at, w }) => s + w * x.data[at]!, 0);
  });
}

const same: Taps = (o) => [[o, 1]];

// --- PyTorch's algorithms (aten/src/ATen/native/UpSample.h), written from their definitions ---

/** F.interpolate(mode='nearest'): src = min(floor(dst · scale), in − 1), scale = 1/scale_factor or in/out. */
function torchNearest(inSize: number, scale: number): Taps {
  return (o) => [[Math.min(Math.floor(o * scale), inSize - 1), 1]];
}

/** F.interpolate(mode='bilinear') along one axis; scale = 1/scale_factor or in/out (align_corners: (in−1)/(out−1)). */
function torchLinear(inSize: number, outSize: number, alignCorners: boolean, scale: number): Taps {
  return (o) => {
    const s = alignCorners ? (outSize > 1 ? (inSize - 1) / (outSize - 1) : 0) : scale;
    const src = alignCorners ? o * s : Math.max(0, s * (o + 0.5) - 0.5);
    const i0 = Math.floor(src);
    const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
    const l1 = src - i0;
    return [
      [i0, 1 - l1],
      [i1, l1],
    ];
  };
}

// --- The ONNX Resize definition (onnx/reference/ops/op_resize.py), for the other modes ---

function onnxTaps(inSize: number, outSize: number, scale: number, attrs: ResizeAttrs): Taps {
  return (o) => {
    const ctm = attrs.coordinateTransformationMode ?? 'half_pixel';
    let x: number;
    if (ctm === 'asymmetric') x = o / scale;
    else if (ctm === 'align_corners') x = outSize === 1 ? 0 : (o * (inSize - 1)) / (outSize - 1);
    else if (ctm === 'pytorch_half_pixel') x = outSize > 1 ? (o + 0.5) / scale - 0.5 : 0;
    else x = (o + 0.5) / scale - 0.5;
    if ((attrs.mode ?? 'nearest') === 'nearest') {
      const nm = attrs.nearestMode ?? 'round_prefer_floor';
      const f = Math.floor(x);
      let i: number;
      if (nm === 'floor') i = f;
      else if (nm === 'ceil') i = Math.ceil(x);
      else if (x - f === 0.5) i = nm === 'round_prefer_floor' ? f : f + 1;
      else i = Math.round(x);
      return [[Math.min(Math.max(i, 0), inSize - 1), 1]];
    }
    const c = Math.min(Math.max(x, 0), inSize - 1);
    const i0 = Math.floor(c);
    const i1 = Math.min(i0 + 1, inSize - 1);
    return [
      [i0, 1 - (c - i0)],
      [i1, c - i0],
    ];
  };
}

const XS = [2, 3, 5, 7];

async function check(dtype: 'float32' | 'float16', attrs: ResizeAttrs, outHW: [number, number], taps: (h: number, w: number) => [Taps, Taps], seed: number): Promise<void> {
  const g = new Graph();
  const y = Resize(g.input('x', dtype, XS), attrs);
  const outShape = [2, 3, ...outHW];
  expect(y.shape).toEqual(outShape);
  g.output(y, 'y');
  const xv = roundedF16(randomTensor(XS, seed));
  const [th, tw] = taps(5, 7);
  const ref = resample(xv, outShape, [same, same, th, tw]);
  const out = await runGraph(g, { x: dtype === 'float16' ? toF16(xv) : xv });
  // Linear weights are computed in f32 by ORT: a few f32 ulps on values ≤ 1 in magnitude.
  if (dtype === 'float32') expectClose(out['y'], ref, outShape, 2 ** -20, 0);
  else expectClose(widen(out['y']), ref, outShape, F16_ATOL, F16_RTOL);
}

const torchNearestMode: ResizeAttrs = { mode: 'nearest', coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' };

describe('Resize', () => {
  for (const dtype of ['float32', 'float16'] as const) {
    it(`${dtype}: matches PyTorch F.interpolate nearest (asymmetric + floor), by scale and by size`, async () => {
      await check(dtype, { ...torchNearestMode, scales: [1, 1, 2, 2] }, [10, 14], (h, w) => [torchNearest(h, 0.5), torchNearest(w, 0.5)], 240);
      await check(dtype, { ...torchNearestMode, sizes: [2, 3, 8, 4] }, [8, 4], (h, w) => [torchNearest(h, 5 / 8), torchNearest(w, 7 / 4)], 241);
    });

    it(`${dtype}: matches PyTorch bilinear, align_corners False (half_pixel) and True`, async () => {
      const lin: ResizeAttrs = { mode: 'linear' };
      await check(dtype, { ...lin, scales: [1, 1, 2, 2] }, [10, 14], (h, w) => [torchLinear(h, 10, false, 0.5), torchLinear(w, 14, false, 0.5)], 242);
      await check(dtype, { ...lin, sizes: [2, 3, 3, 10] }, [3, 10], (h, w) => [torchLinear(h, 3, false, 5 / 3), torchLinear(w, 10, false, 7 / 10)], 243);
      await check(dtype, { ...lin, sizes: [2, 3, 1, 1] }, [1, 1], (h, w) => [torchLinear(h, 1, false, 5), torchLinear(w, 1, false, 7)], 244);
      const ac: ResizeAttrs = { mode: 'linear', coordinateTransformationMode: 'align_corners' };
      await check(dtype, { ...ac, sizes: [2, 3, 9, 4] }, [9, 4], (h, w) => [torchLinear(h, 9, true, 0), torchLinear(w, 4, true, 0)], 245);
    });

    it(`${dtype}: other nearest modes and pytorch_half_pixel follow the ONNX definition`, async () => {
      const variants: ResizeAttrs[] = [
        { mode: 'nearest' },
        { mode: 'nearest', nearestMode: 'round_prefer_ceil' },
        { mode: 'nearest', nearestMode: 'ceil', coordinateTransformationMode: 'asymmetric' },
        { mode: 'nearest', coordinateTransformationMode: 'align_corners' },
        { mode: 'linear', coordinateTransformationMode: 'pytorch_half_pixel' },
        { mode: 'linear', coordinateTransformationMode: 'asymmetric' },
      ];
      for (const [vi, v] of variants.entries()) {
        // Scales 1.5 and 0.5 (exact in binary) put many mapped coordinates exactly on .5 ties.
        await check(dtype, { ...v, scales: [1, 1, 1.5, 0.5] }, [7, 3], (h, w) => [onnxTaps(h, 7, 1.5, v), onnxTaps(w, 3, 0.5, v)], 250 + vi);
      }
    });
  }

  it('resizes only H and W by `axes` (an attribute at opset 18, widened at 17) with a symbolic batch', async () => {
    for (const opset of [17, 18]) {
      const g = new Graph({ opset });
      const x = g.input('x', 'float32', ['batch', 3, 5, 7]);
      const y = Resize(x, { ...torchNearestMode, scales: [2, 2], axes: [2, 3] });
      expect(y.shape).toEqual(['batch', 3, 10, 14]);
      const node = g.nodes.at(-1)!;
      expect('axes' in node.attributes).toBe(opset >= 18);
      g.output(y, 'y');
      const xv = randomTensor(XS, 260);
      const out = await runGraph(g, { x: xv });
      expectClose(out['y'], resample(xv, [2, 3, 10, 14], [same, same, torchNearest(5, 0.5), torchNearest(7, 0.5)]), [2, 3, 10, 14], 0, 0);
    }
    // Sizes for some axes at opset 17 are widened with the known dims.
    const g = new Graph();
    const y = Resize(g.input('x', 'float32', XS), { ...torchNearestMode, sizes: [8, 4], axes: [-2, -1] });
    expect(y.shape).toEqual([2, 3, 8, 4]);
    g.output(y, 'y');
    const xv = randomTensor(XS, 261);
    const out = await runGraph(g, { x: xv });
    expectClose(out['y'], resample(xv, [2, 3, 8, 4], [same, same, torchNearest(5, 5 / 8), torchNearest(7, 7 / 4)]), [2, 3, 8, 4], 0, 0);
  });

  it('gives symbolic dims scaled ≠ 1 a new name, floors fractional sizes, and names the op on bad input', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 3, 'h', 7]);
    const y = Resize(x, { scales: [1, 1, 2, 1.5] });
    expect(y.shape[0]).toBe('batch');
    expect(typeof y.shape[2]).toBe('string');
    expect(y.shape[2]).not.toBe('h');
    expect(y.shape[3]).toBe(10); // floor(7 · 1.5)
    expect(() => Resize(x, {})).toThrow(/Resize: give exactly one of scales and sizes.*\[batch, 3, h, 7\]/);
    expect(() => Resize(x, { scales: [2, 2] })).toThrow(/Resize: scales \[2, 2\] need one entry per axis \(4\)/);
    expect(() => Resize(x, { scales: [1, 1, 0, 1] })).toThrow(/Resize: scales must be positive/);
    expect(() => Resize(x, { sizes: [8, 8], axes: [2, 3] })).toThrow(/Resize: sizes for some axes need the other dims known before opset 18/);
  });
});
