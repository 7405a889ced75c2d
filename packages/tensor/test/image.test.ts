import { describe, expect, it } from 'vitest';
import { imagesToTensor, imageToTensor, resize, tensorToImage } from '../src/image/index.js';
import { Tensor } from '../src/tensor.js';

// ---- Independent references, written out per element from diffusers' and PyTorch's formulas. ----

const f = Math.fround;

/** numpy's round(): nearest integer, halves to even. */
function roundHalfEven(x: number): number {
  const lo = Math.floor(x);
  const d = x - lo;
  return d > 0.5 || (d === 0.5 && lo % 2 !== 0) ? lo + 1 : lo;
}

/** diffusers postprocess of one float (range '-1,1'): (x*0.5+0.5).clamp(0,1), then (x*255).round() as uint8. */
function postprocess(x: number): number {
  const y = Math.min(Math.max(f(f(x * 0.5) + 0.5), 0), 1);
  return roundHalfEven(f(y * 255));
}

/** PyTorch's legacy nearest index (UpSample.h nearest_idx). */
function torchNearest(o: number, inSize: number, outSize: number): number {
  if (outSize === inSize) return o;
  if (outSize === 2 * inSize) return o >> 1;
  const scale = f(inSize / outSize);
  return Math.min(Math.floor(f(o * scale)), inSize - 1);
}

/**
 * a * b + c rounded once to float32, by exact integer arithmetic: float32s are integer multiples of
 * 2^-149, so the exact sum is an integer multiple of 2^-298; the nearest float32 is found by comparing
 * the candidates around a float64 estimate, ties to the even encoding.
 */
function exactFma32(a: number, b: number, c: number): number {
  const scaled = (x: number): bigint => BigInt(x * 2 ** 149);
  const exact = scaled(a) * scaled(b) + (scaled(c) << 149n);
  const estimate = Math.fround(Number(exact) / 2 ** 298);
  const bits = new Uint32Array(new Float32Array([estimate]).buffer)[0]!;
  const candidates = [bits - 1, bits, bits + 1].map((u) => new Float32Array(new Uint32Array([u >>> 0]).buffer)[0]!);
  let best = estimate;
  let bestDistance: bigint | undefined;
  for (const candidate of candidates) {
    if (!Number.isFinite(candidate)) continue;
    let distance = (scaled(candidate) << 149n) - exact;
    if (distance < 0n) distance = -distance;
    const odd = (new Uint32Array(new Float32Array([candidate]).buffer)[0]! & 1) === 1;
    if (bestDistance === undefined || distance < bestDistance || (distance === bestDistance && !odd)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** PyTorch's align_corners=False linear source (compute_source_index_and_lambda) as [i0, i1, lambda0, lambda1]. */
function torchLinear(o: number, inSize: number, outSize: number): [number, number, number, number] {
  if (outSize === inSize) return [o, o, 1, 0];
  const scale = f(inSize / outSize);
  const real = Math.max(exactFma32(scale, o + 0.5, -0.5), 0); // scale * (dst + 0.5) - 0.5, contracted
  const i0 = Math.min(Math.floor(real), inSize - 1);
  const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
  const l1 = Math.min(Math.max(f(real - i0), 0), 1);
  return [i0, i1, f(1 - l1), l1];
}

function referenceResize(t: Tensor<'float32'>, outH: number, outW: number, mode: 'nearest' | 'bilinear'): Float32Array {
  const [n, c, h, w] = t.shape as [number, number, number, number];
  const out = new Float32Array(n * c * outH * outW);
  const at = (p: number, y: number, x: number): number => t.data[(p * h + y) * w + x]!;
  for (let p = 0; p < n * c; p++) {
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        let v: number;
        if (mode === 'nearest') v = at(p, torchNearest(y, h, outH), torchNearest(x, w, outW));
        else {
          const [y0, y1, h0, h1] = torchLinear(y, h, outH);
          const [x0, x1, w0, w1] = torchLinear(x, w, outW);
          if (outH + outW <= 128) {
            // cpu_upsample_linear_channels_last: out = i00*w00 + i01*w01 + i10*w10 + i11*w11, as
            // compiled: the i01 product first, then one FMA per further tap.
            let acc = f(at(p, y0, x1) * f(h0 * w1));
            acc = exactFma32(at(p, y0, x0), f(h0 * w0), acc);
            acc = exactFma32(at(p, y1, x0), f(h1 * w0), acc);
            v = exactFma32(at(p, y1, x1), f(h1 * w1), acc);
          } else {
            // upsample_generic_Nd_kernel_impl: t0 * w0 + t1 * w1 along W, then along H, as FMAs.
            const top = exactFma32(at(p, y0, x0), w0, f(at(p, y0, x1) * w1));
            const bottom = exactFma32(at(p, y1, x0), w0, f(at(p, y1, x1) * w1));
            v = exactFma32(top, h0, f(bottom * h1));
          }
        }
        out[(p * outH + y) * outW + x] = v;
      }
    }
  }
  return out;
}

function randomTensor(shape: [number, number, number, number], seed: number): Tensor<'float32'> {
  let s = seed;
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2 ** 31 - 1;
  }
  return new Tensor('float32', shape, data);
}

function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

describe('imageToTensor', () => {
  it('splits RGBA into normalized RGB planes and drops alpha', () => {
    // 2×1 image: red-ish and blue-ish pixels with arbitrary alpha.
    const rgba = new Uint8ClampedArray([255, 0, 51, 7, 0, 255, 102, 200]);
    const t = imageToTensor(rgba, 2, 1);
    expect(t.shape).toEqual([1, 3, 1, 2]);
    const expected = [255, 0, 0, 255, 51, 102].map((v) => f(2 * f(v / 255) - 1));
    expect([...t.data]).toEqual(expected);
    expect(t.data[0]).toBe(1);
    expect(t.data[1]).toBe(-1);
  });

  it("reads RGB input and the '0,1' range", () => {
    const rgb = new Uint8Array([0, 128, 255]);
    const t = imageToTensor(rgb, 1, 1, { channels: 3, range: '0,1' });
    expect([...t.data]).toEqual([0, f(128 / 255), 1]);
  });

  it('batches same-sized images in order', () => {
    const a = { width: 1, height: 2, data: new Uint8Array([10, 20, 30, 40, 50, 60]) };
    const b = { width: 1, height: 2, data: new Uint8ClampedArray([1, 2, 3, 255, 4, 5, 6, 255]) };
    const t = imagesToTensor([a, b], { range: '0,1' });
    expect(t.shape).toEqual([2, 3, 2, 1]);
    expect([...t.data]).toEqual([10, 40, 20, 50, 30, 60, 1, 4, 2, 5, 3, 6].map((v) => f(v / 255)));
  });

  it('rejects wrong buffer lengths, sizes and options with clear messages', () => {
    expect(() => imageToTensor(new Uint8Array(11), 2, 2)).toThrow(/11 bytes but a 2×2 image needs 12 \(RGB\) or 16 \(RGBA\)/);
    expect(() => imageToTensor(new Uint8Array(12), 2, 2, { channels: 4 })).toThrow(/12 bytes but a 2×2 RGBA image needs 16/);
    expect(() => imageToTensor(new Uint8Array(0), 0, 4)).toThrow(/image width must be an integer from 1 to 65536, got 0/);
    expect(() => imageToTensor(new Uint8Array(4), 1.5, 1)).toThrow(/width must be an integer/);
    expect(() => imageToTensor(new Uint8Array(4), 1, 1e9)).toThrow(/height must be an integer from 1 to 65536, got 1000000000/);
    expect(() => imageToTensor(new Uint8Array(4), 40000, 40000)).toThrow(/exceeds the limit/);
    expect(() => imageToTensor(new Uint8Array(4), 1, 1, { range: '0,255' as '0,1' })).toThrow(/pixel range must be/);
    expect(() => imagesToTensor([])).toThrow(/at least one image/);
    const a = { width: 1, height: 1, data: new Uint8Array(3) };
    const b = { width: 2, height: 1, data: new Uint8Array(6) };
    expect(() => imagesToTensor([a, b])).toThrow(/image 1 is 2×1 but image 0 is 1×1/);
  });
});

describe('tensorToImage', () => {
  it('round-trips every byte value exactly in both ranges', () => {
    const rgba = new Uint8ClampedArray(256 * 4);
    for (let v = 0; v < 256; v++) rgba.set([v, 255 - v, (v * 7) % 256, 255], v * 4);
    for (const range of ['-1,1', '0,1'] as const) {
      const [image] = tensorToImage(imageToTensor(rgba, 16, 16, { range }), { range });
      expect(image?.width).toBe(16);
      expect(image?.height).toBe(16);
      expect(firstDifference(image!.data, rgba)).toBe(-1);
    }
  });

  it('clamps and rounds like diffusers, halves to even', () => {
    // (x*0.5+0.5)*255 lands exactly on .5 for x = (2k+1)/255 - 1; k = 0 and 1 give 0.5 and 1.5.
    const values = [-2, -1, 1, 2, Infinity, -Infinity, NaN, 0, f(1 / 255 - 1), f(3 / 255 - 1), 0.999, -0.999, f(0.5 / 255)];
    const t = new Tensor('float32', [3, 1, values.length], new Float32Array([...values, ...values, ...values]));
    const [image] = tensorToImage(t, { alpha: false });
    const expected = values.map((x) => (Number.isNaN(x) ? 0 : postprocess(x)));
    expect([...image!.data.subarray(0, values.length * 3)].filter((_, i) => i % 3 === 0)).toEqual(expected);
    // Spot values worked by hand: -2 and -1 clamp to 0, 1 and 2 to 255, 0 maps to 127.5 -> 128 (even).
    expect(expected.slice(0, 8)).toEqual([0, 0, 255, 255, 255, 0, 0, 128]);
  });

  it("rounds the '0,1' range halves to even and clamps it too", () => {
    const values = [0.5 / 255, 1.5 / 255, 2.5 / 255, -0.1, 1.1, 0.5];
    const t = new Tensor('float32', [1, 3, 1, values.length], new Float32Array([...values, ...values, ...values]));
    const [image] = tensorToImage(t, { range: '0,1' });
    const reds = [...image!.data].filter((_, i) => i % 4 === 0);
    expect(reds).toEqual(values.map((x) => roundHalfEven(f(Math.min(Math.max(f(x), 0), 1) * 255))));
    expect(reds.slice(0, 3)).toEqual([0, 2, 2]);
    expect([...image!.data].filter((_, i) => i % 4 === 3)).toEqual(values.map(() => 255));
  });

  it('accepts [3, H, W] and batches, and rejects other shapes and dtypes', () => {
    const chw = new Tensor('float32', [3, 2, 1], new Float32Array([-1, 1, 0, 0, 1, -1]));
    const [image] = tensorToImage(chw);
    expect([...image!.data]).toEqual([0, 128, 255, 255, 255, 128, 0, 255]);
    expect(tensorToImage(Tensor.zeros('float32', [4, 3, 2, 2]))).toHaveLength(4);
    expect(() => tensorToImage(Tensor.zeros('float32', [1, 4, 2, 2]))).toThrow(/shape \[N, 3, H, W\] or \[3, H, W\], got \[1, 4, 2, 2\]/);
    expect(() => tensorToImage(Tensor.zeros('float32', [3, 4]))).toThrow(/got \[3, 4\]/);
    expect(() => tensorToImage(Tensor.zeros('float32', [1, 3, 0, 2]))).toThrow(/height must be an integer/);
    const half = Tensor.zeros('float16', [1, 3, 2, 2]) as Tensor;
    expect(() => tensorToImage(half as Tensor<'float32'>)).toThrow(/float32 tensor, got float16/);
  });
});

describe('resize', () => {
  const grid = new Tensor('float32', [1, 1, 2, 2], new Float32Array([0, 1, 2, 3]));

  it('upsamples 2× bilinearly with half-pixel centres and edge clamping (worked by hand)', () => {
    // Along each axis, outputs 0..3 sample sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
    const row = (a: number, b: number): number[] => [a, a + 0.25 * (b - a), a + 0.75 * (b - a), b];
    const expected = [
      ...row(0, 1),
      ...row(0.5, 1.5), // source row 0.25: a quarter of the way from row 0 to row 1
      ...row(1.5, 2.5),
      ...row(2, 3),
    ];
    expect([...resize(grid, 4, 4, 'bilinear').data]).toEqual(expected);
  });

  it('downsamples 2× bilinearly to 2×2 box means (no antialias)', () => {
    const t = new Tensor('float32', [1, 1, 4, 4], Float32Array.from({ length: 16 }, (_, i) => i));
    // Output (y, x) samples source (2y + 0.5, 2x + 0.5): the mean of a 2×2 block.
    expect([...resize(t, 2, 2, 'bilinear').data]).toEqual([2.5, 4.5, 10.5, 12.5]);
  });

  it('nearest: 2× up repeats, 2× down keeps even pixels, 2 -> 3 uses the float32 scale', () => {
    expect([...resize(grid, 4, 4).data]).toEqual([0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3]);
    const t = new Tensor('float32', [1, 1, 4, 4], Float32Array.from({ length: 16 }, (_, i) => i));
    expect([...resize(t, 2, 2, 'nearest').data]).toEqual([0, 2, 8, 10]);
    // scale = f32(2/3); floor(2 * scale) = 1, so [a, b] -> [a, a, b].
    const pair = new Tensor('float32', [1, 1, 1, 2], new Float32Array([5, 7]));
    expect([...resize(pair, 1, 3).data]).toEqual([5, 5, 7]);
  });

  it('nearest follows float32 index arithmetic where exact division would differ', () => {
    // Search small sizes for an output index whose float32 product crosses an integer that the exact
    // rational product does not reach (or vice versa); PyTorch computes floorf(dst * (float)(in / out)).
    let found: [number, number, number] | undefined;
    for (let inSize = 1; inSize < 200 && !found; inSize++) {
      for (let outSize = 1; outSize < 200 && !found; outSize++) {
        if (outSize === inSize || outSize === 2 * inSize) continue;
        for (let o = 0; o < outSize; o++) {
          if (Math.min(Math.floor((o * inSize) / outSize), inSize - 1) !== torchNearest(o, inSize, outSize)) {
            found = [inSize, outSize, o];
            break;
          }
        }
      }
    }
    expect(found).toBeDefined();
    const [inSize, outSize, o] = found!;
    const line = new Tensor('float32', [1, 1, 1, inSize], Float32Array.from({ length: inSize }, (_, i) => i));
    const out = resize(line, 1, outSize, 'nearest').data;
    expect(out[o]).toBe(torchNearest(o, inSize, outSize));
    expect(out[o]).not.toBe(Math.floor((o * inSize) / outSize));
  });

  it('matches the written-out PyTorch formulas on odd sizes, both modes, both kernels', () => {
    const t = randomTensor([1, 2, 7, 5], 42);
    for (const [h, w] of [
      [3, 2],
      [13, 11],
      [14, 10],
      [7, 9],
      [1, 1],
      [5, 7],
      [66, 63], // above the 128 threshold: the generic kernel
      [2, 127],
    ] as const) {
      for (const mode of ['nearest', 'bilinear'] as const) {
        const got = resize(t, h, w, mode);
        expect(got.shape).toEqual([1, 2, h, w]);
        expect([mode, h, w, firstDifference(got.data, referenceResize(t, h, w, mode))]).toEqual([mode, h, w, -1]);
      }
    }
  });

  it('matches outputs recorded from PyTorch 2.13 (x86-64, 2 threads)', () => {
    const x = new Tensor('float32', [1, 1, 3, 4], new Float32Array([0.1, -1.7, 2.3, 0.35, 3.9, -0.55, 1.25, -2.6, 0.7, 1.1, -0.3, 5.5]));
    const bits = (t: Tensor<'float32'>): number[] => [...new Uint32Array(t.data.buffer, t.data.byteOffset, t.size)];
    // F.interpolate(x, size=(5, 7), mode='bilinear', align_corners=False)
    expect(bits(resize(x, 5, 7, 'bilinear'))).toEqual([
      0x3dcccccd, 0xbf0af8b1, 0xbfc92493, 0x3e9999a7, 0x400a4923, 0x3f85f15c, 0x3eb33333, 0x3fcf5c2a, 0x3f193bf8,
      0xbf84924a, 0x3ea3d713, 0x3fd7dcde, 0x3e0d2a46, 0xbf547ae3, 0x4079999a, 0x4013e2bd, 0xbe6db6e4, 0x3eb33339,
      0x3f79998c, 0xbf9cccd2, 0xc0266666, 0x3ffd70a0, 0x3fb70a3b, 0x3f0cccd0, 0x3ec28f5d, 0x3eeac9e9, 0x3fc8982b,
      0x4010a3dc, 0x3f333333, 0x3f57c57c, 0x3f892492, 0x3eccccc8, 0x3dea0f3e, 0x405b6dba, 0x40b00000,
    ]);
    // F.interpolate(x, size=(70, 61), mode='bilinear', align_corners=False), at flat indices where an
    // unfused float32 evaluation would differ in the last bit.
    const large = bits(resize(x, 70, 61, 'bilinear'));
    const recorded: Array<[number, number]> = [
      [8, 0xbb56de54], [661, 0x3f16fa27], [983, 0x3f631bcd], [1314, 0x3f6cf1fe], [1644, 0xbfc33ee7],
      [2027, 0x3fdcf99c], [2402, 0xbe3bb519], [2899, 0x3ec6ab76], [3134, 0x3f190a7e], [3535, 0x40a6be2d],
    ];
    expect(recorded.map(([i]) => large[i])).toEqual(recorded.map(([, v]) => v));
    // F.interpolate(x, size=(5, 7)) (mode='nearest')
    const nearestRows = [...resize(x, 5, 7).data].map((v) => x.data.indexOf(v));
    expect(nearestRows).toEqual([0, 0, 1, 1, 2, 2, 3, 0, 0, 1, 1, 2, 2, 3, 4, 4, 5, 5, 6, 6, 7, 4, 4, 5, 5, 6, 6, 7, 8, 8, 9, 9, 10, 10, 11]);
  });

  it('copies at the same size', () => {
    const t = randomTensor([1, 3, 4, 6], 9);
    for (const mode of ['nearest', 'bilinear'] as const) {
      const out = resize(t, 4, 6, mode);
      expect(out.data).not.toBe(t.data);
      expect(firstDifference(out.data, t.data)).toBe(-1);
    }
  });

  it('rejects bad shapes, sizes and modes', () => {
    expect(() => resize(new Tensor('float32', [2, 2], new Float32Array(4)), 4, 4)).toThrow(/NCHW tensor \[N, C, H, W\], got \[2, 2\]/);
    expect(() => resize(grid, 0, 4)).toThrow(/resize output height must be an integer from 1 to 65536, got 0/);
    expect(() => resize(grid, 4, -1)).toThrow(/resize output width must be an integer/);
    expect(() => resize(grid, 4, 2.5)).toThrow(/resize output width must be an integer/);
    expect(() => resize(grid, 1e6, 4)).toThrow(/got 1000000/);
    expect(() => resize(grid, 4, 4, 'bicubic' as 'nearest')).toThrow(/mode must be 'nearest' or 'bilinear', got 'bicubic'/);
    expect(() => resize(Tensor.zeros('float32', [1, 1, 0, 3]), 2, 2)).toThrow(/resize input height must be an integer/);
  });
});

