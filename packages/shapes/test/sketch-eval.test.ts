// Sketch agreement's parts: the silhouette read from an image matches the shape's geometry on real samples, moves
// with the shape, and the IoU is what it says.
import { describe, expect, it } from 'vitest';
import { evaluationSketches, maskIoU, shapeSample, silhouetteOf, SPLIT_SEEDS } from '../src/index.js';

describe('sketch agreement', () => {
  it('the silhouette of each real held-out image overlaps its sketched shape (IoU ≥ 0.85)', () => {
    const cases = evaluationSketches(100);
    for (let i = 0; i < cases.length; i++) {
      const real = shapeSample(SPLIT_SEEDS.test, 2_000_000 + i).image;
      expect(maskIoU(silhouetteOf(real), cases[i]!.silhouette), `case ${i}`).toBeGreaterThanOrEqual(0.85);
    }
  });

  it('another sample\'s image does not agree with the sketch (most IoUs < 0.6)', () => {
    const cases = evaluationSketches(100);
    let low = 0;
    for (let i = 0; i < cases.length; i++) {
      const other = shapeSample(SPLIT_SEEDS.test, 2_000_000 + ((i + 1) % cases.length)).image;
      if (maskIoU(silhouetteOf(other), cases[i]!.silhouette) < 0.6) low++;
    }
    expect(low).toBeGreaterThan(80);
  });

  it('maskIoU: intersection over union, 1 for two empty masks', () => {
    expect(maskIoU(Uint8Array.of(1, 1, 0, 0), Uint8Array.of(0, 1, 1, 0))).toBeCloseTo(1 / 3, 10);
    expect(maskIoU(new Uint8Array(4), new Uint8Array(4))).toBe(1);
    expect(() => maskIoU(new Uint8Array(3), new Uint8Array(4))).toThrow(/3 and 4/);
  });

  it('a plain image has an empty silhouette; the sketches are white strokes on black', () => {
    const flat = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 3).fill(120) };
    expect(silhouetteOf(flat).every((v) => v === 0)).toBe(true);
    const s = evaluationSketches(1)[0]!.sketch;
    const max = Math.max(...s.data);
    expect(max).toBeGreaterThan(200);
    expect(s.data.filter((v) => v < 30).length).toBeGreaterThan(s.data.length / 2);
  });
});
