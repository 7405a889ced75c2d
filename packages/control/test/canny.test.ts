// cv2.Canny semantics on images small enough to check by hand; the golden case checks real images bit for bit.
import { describe, expect, it } from 'vitest';
import { canny, type Pixels } from '@sdxs/control';

/** A grey image from a function of (row, column). */
function grey(w: number, h: number, f: (i: number, j: number) => number): Pixels {
  const data = new Uint8Array(w * h);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) data[i * w + j] = f(i, j);
  return { width: w, height: h, data, channels: 1 };
}

/** An RGB image from per-channel functions. */
function rgb(w: number, h: number, f: (i: number, j: number) => [number, number, number]): Pixels {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) data.set(f(i, j), (i * w + j) * 3);
  return { width: w, height: h, data, channels: 3 };
}

/** The edge pixels as "row,col" strings. */
function edges(img: Pixels, low: number, high: number, l2 = false): string[] {
  const out = canny(img, low, high, { l2Gradient: l2 });
  expect(out.channels).toBe(1);
  expect(out.data.every((v) => v === 0 || v === 255)).toBe(true);
  const at: string[] = [];
  out.data.forEach((v, k) => v && at.push(`${Math.floor(k / img.width)},${k % img.width}`));
  return at;
}

const column = (j: number, h = 8) => [...Array(h).keys()].map((i) => `${i},${j}`);
const row = (i: number, w = 8) => [...Array(w).keys()].map((j) => `${i},${j}`);
// A vertical step of height v between columns 3 and 4: Sobel gives |dx| = 4v on both columns, dy = 0 (replicated rows).
const vstep = (v: number) => grey(8, 8, (_, j) => (j >= 4 ? v : 0));

describe('canny (cv2.Canny, aperture 3)', () => {
  it('a flat image has no edges', () => {
    expect(edges(grey(8, 8, () => 77), 0, 1)).toEqual([]);
  });

  it('a step edge lands on the pixel before it (non-maximum suppression compares m > left, m >= right)', () => {
    expect(edges(vstep(255), 100, 200)).toEqual(column(3));
    // Along y the comparison is m > above, m >= below: the row above the step.
    expect(edges(grey(8, 8, (i) => (i >= 4 ? 255 : 0)), 100, 200)).toEqual(row(3));
  });

  it('seeds need m > high, strictly; thresholds are floored and swapped when out of order', () => {
    // Step 50: m = 200 on the edge.
    expect(edges(vstep(50), 100, 200)).toEqual([]);
    expect(edges(vstep(50), 100, 199)).toEqual(column(3));
    expect(edges(vstep(50), 100, 199.9)).toEqual(column(3));
    expect(edges(vstep(50), 100, 200.5)).toEqual([]);
    expect(edges(vstep(50), 199, 100)).toEqual(column(3));
  });

  it('candidates need m > low; a weak edge with no strong pixel on it is dropped (hysteresis)', () => {
    // Strong step (m = 1020) at column 3/4 and a weak one (m = 120) at column 11/12 of a 16-wide image.
    const img = grey(16, 8, (_, j) => (j >= 12 ? 225 : j >= 4 ? 255 : 0));
    expect(edges(img, 100, 500).sort()).toEqual(column(3).sort());
    expect(edges(img, 100, 119).sort()).toEqual([...column(3), ...column(11)].sort());
    expect(edges(img, 120, 119).sort()).toEqual(column(3).sort());
  });

  it('L2gradient compares squared magnitudes with squared thresholds', () => {
    // m = 1020² = 1040400 on the edge; 1019² = 1038361.
    expect(edges(vstep(255), 100, 1019, true)).toEqual(column(3));
    expect(edges(vstep(255), 100, 1020, true)).toEqual([]);
  });

  it('colour: each pixel takes the channel with the strongest gradient (not an OR of channels)', () => {
    // Only blue varies: the same as the grey image of blue.
    const blue = (i: number, j: number) => ((i * 37 + j * j * 11) % 7) * 40;
    expect(edges(rgb(12, 10, (i, j) => [0, 0, blue(i, j)]), 50, 150)).toEqual(edges(grey(12, 10, blue), 50, 150));
    // Equal channels: the same as grey.
    expect(edges(rgb(12, 10, (i, j) => [blue(i, j), blue(i, j), blue(i, j)]), 50, 150)).toEqual(edges(grey(12, 10, blue), 50, 150));
    // Red steps at 3/4 (m = 1020), green by 100 at 7/8 (m = 400): two edges.
    expect(edges(rgb(12, 8, (_, j) => [j >= 4 ? 255 : 0, j >= 8 ? 100 : 0, 0]), 100, 200).sort()).toEqual([...column(3), ...column(7)].sort());
    // Green's step moved next to red's (5/6): column 5's magnitude 400 now loses to red's 1020 at column 4.
    expect(edges(rgb(12, 8, (_, j) => [j >= 4 ? 255 : 0, j >= 6 ? 100 : 0, 0]), 100, 200)).toEqual(column(3));
  });

  it('RGBA is a four-channel image: a constant alpha changes nothing', () => {
    const c = rgb(9, 7, (i, j) => [(i * 50) % 256, (j * 70) % 256, ((i + j) * 30) % 256]);
    const rgba = new Uint8Array(9 * 7 * 4);
    for (let p = 0; p < 63; p++) rgba.set([...c.data.subarray(p * 3, p * 3 + 3), 255], p * 4);
    expect(edges({ width: 9, height: 7, data: rgba }, 60, 120)).toEqual(edges(c, 60, 120));
    expect(edges(c, 60, 120).length).toBeGreaterThan(0);
  });

  it('refuses buffers that do not fit the size, and thresholds that are not numbers', () => {
    expect(() => canny({ width: 4, height: 4, data: new Uint8Array(20) }, 1, 2)).toThrow(/has 20 bytes; a 4×4 image needs 16 \(grey\), 48 \(RGB\) or 64 \(RGBA\)/);
    expect(() => canny({ width: 4, height: 4, data: new Uint8Array(16), channels: 3 }, 1, 2)).toThrow(/4×4 with 3 channels needs 48/);
    expect(() => canny(vstep(1), Number.NaN, 2)).toThrow(/thresholds must be finite/);
  });

  it('is fast: a 512×512 RGB image', () => {
    const w = 512;
    const img = rgb(w, w, (i, j) => [(Math.sin(j / 17) * 90 + 128) & 255, (Math.cos(i / 23) * 90 + 128) & 255, ((i ^ j) * 7) & 255]);
    for (let k = 0; k < 3; k++) canny(img, 100, 200);
    const times: number[] = [];
    for (let k = 0; k < 9; k++) {
      const t0 = performance.now();
      canny(img, 100, 200);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(`canny 512×512 RGB: median ${times[4]!.toFixed(1)} ms, best ${times[0]!.toFixed(1)} ms (shared 2-core machine)`);
    // A loose bound: catches a pathological slowdown, not a busy machine.
    expect(times[0]!).toBeLessThan(250);
  });
});
