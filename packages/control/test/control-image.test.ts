// Control images as diffusers' ControlNet pipeline prepares them: RGB, [0, 1] (v / 255 in float32), NCHW, resized.
import { describe, expect, it } from 'vitest';
import { canny, controlImagePixels, prepareControlImage, type ControlImageOptions } from '@sdxs/control';

const f = (v: number) => Math.fround(v / 255);

describe('prepareControlImage', () => {
  it('raw: RGB bytes become [1, 3, H, W] planes of v / 255', () => {
    // 2×1 image: (10, 20, 30), (40, 50, 60).
    const t = prepareControlImage({ width: 2, height: 1, data: Uint8Array.of(10, 20, 30, 40, 50, 60) });
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([1, 3, 1, 2]);
    expect([...t.data]).toEqual([10, 40, 20, 50, 30, 60].map(f));
  });

  it('RGBA drops alpha (PIL convert("RGB")); grey is repeated into R, G, B', () => {
    const rgba = prepareControlImage({ width: 2, height: 1, data: Uint8Array.of(10, 20, 30, 0, 40, 50, 60, 128) });
    expect([...rgba.data]).toEqual([10, 40, 20, 50, 30, 60].map(f));
    const g = prepareControlImage({ width: 2, height: 1, data: Uint8Array.of(7, 250), channels: 1 });
    expect([...g.data]).toEqual([7, 250, 7, 250, 7, 250].map(f));
  });

  it('sketch: dark strokes on white become white strokes on black (255 − v, as the SDXS sketch demo)', () => {
    // A 3×3 white pad with a black vertical stroke in the middle column.
    const pad = new Uint8Array(27).fill(255);
    for (let i = 0; i < 3; i++) pad.fill(0, (i * 3 + 1) * 3, (i * 3 + 2) * 3);
    const t = prepareControlImage({ width: 3, height: 3, data: pad }, { mode: 'sketch' });
    const plane = [0, 1, 0, 0, 1, 0, 0, 1, 0];
    expect([...t.data]).toEqual([...plane, ...plane, ...plane]);
    expect([...controlImagePixels({ width: 1, height: 1, data: Uint8Array.of(200, 100, 0) }, { mode: 'sketch' }).data]).toEqual([55, 155, 255]);
  });

  it('alpha "white" composites a transparent canvas over white first', () => {
    // Transparent black, opaque black, black at alpha 128: round((0·128 + 255·127) / 255) = 127.
    const canvas = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 255, 0, 0, 0, 128);
    expect([...controlImagePixels({ width: 3, height: 1, data: canvas }, { alpha: 'white' }).data]).toEqual([255, 255, 255, 0, 0, 0, 127, 127, 127]);
    expect([...controlImagePixels({ width: 3, height: 1, data: canvas }, { alpha: 'white', mode: 'sketch' }).data]).toEqual([0, 0, 0, 255, 255, 255, 128, 128, 128]);
    // Without it, the colour is kept as stored (transparent black stays black).
    expect([...controlImagePixels({ width: 3, height: 1, data: canvas }).data]).toEqual(new Array(9).fill(0));
  });

  it('canny: the edges of the RGB image in all three channels, 0 or 1', () => {
    const w = 16;
    const data = new Uint8Array(w * w * 3);
    for (let p = 0; p < w * w; p++) data.set([(p % w) * 16, Math.floor(p / w) >= 8 ? 200 : 20, 0], p * 3);
    const t = prepareControlImage({ width: w, height: w, data }, { mode: 'canny', low: 50, high: 150 });
    const edges = canny({ width: w, height: w, data, channels: 3 }, 50, 150).data;
    const plane = [...edges].map((v) => v / 255);
    expect(plane.some((v) => v === 1)).toBe(true);
    expect([...t.data]).toEqual([...plane, ...plane, ...plane]);
    // Default thresholds are diffusers' example's 100 and 200.
    expect([...controlImagePixels({ width: w, height: w, data }, { mode: 'canny' }).data]).toEqual([...controlImagePixels({ width: w, height: w, data }, { mode: 'canny', low: 100, high: 200 }).data]);
  });

  it('resizes to the output size (nearest by default, as F.interpolate for array inputs)', () => {
    const t = prepareControlImage({ width: 2, height: 2, data: Uint8Array.of(0, 0, 0, 255, 255, 255, 51, 51, 51, 102, 102, 102) }, { width: 4, height: 4 });
    expect(t.shape).toEqual([1, 3, 4, 4]);
    const r = [0, 0, 255, 255];
    const s = [51, 51, 102, 102];
    expect([...t.data.subarray(0, 16)]).toEqual([...r, ...r, ...s, ...s].map(f));
    const b = prepareControlImage({ width: 2, height: 2, data: new Uint8Array(12).fill(255) }, { width: 3, height: 5, resize: 'bilinear' });
    expect(b.shape).toEqual([1, 3, 5, 3]);
    // PyTorch's float32 bilinear weights (1 − λ, λ) need not sum to exactly 1: within one float32 ulp of 1.
    expect(Math.max(...[...b.data].map((v) => Math.abs(v - 1)))).toBeLessThanOrEqual(2 ** -23);
  });

  it('refuses an unknown mode and a buffer that does not fit', () => {
    const img = { width: 1, height: 1, data: Uint8Array.of(1, 2, 3) };
    // Options from untyped JavaScript (here JSON) can name a mode that does not exist.
    const options: ControlImageOptions = JSON.parse('{ "mode": "depth" }');
    expect(() => prepareControlImage(img, options)).toThrow(/mode must be 'raw', 'sketch' or 'canny', got "depth"/);
    expect(() => prepareControlImage({ width: 2, height: 1, data: Uint8Array.of(1, 2), channels: 3 })).toThrow(/control image has 2 bytes/);
  });
});
