import { describe, it } from 'vitest';
import { corners, shapeDistance, shapeSample, type ShapeSample } from '@sdxs/shapes';
import { createHash } from 'node:crypto';

function area(s: ShapeSample): number {
  const { shape } = s.attributes;
  const p = s.placement;
  if (shape === 'circle') return Math.PI * p.r * p.r;
  if (shape === 'square') return 4 * p.r * p.r;
  const c = corners('triangle', p);
  let a = 0;
  for (let i = 0; i < 3; i++) { const [x0, y0] = c[i]!; const [x1, y1] = c[(i + 1) % 3]!; a += x0 * y1 - x1 * y0; }
  return Math.abs(a) / 2;
}
function perim(s: ShapeSample): number {
  const { shape } = s.attributes; const p = s.placement;
  if (shape === 'circle') return 2 * Math.PI * p.r;
  if (shape === 'square') return 8 * p.r;
  return 3 * Math.sqrt(3) * 1.25 * p.r;
}
describe('probe', () => {
  it('measures', () => {
    const h = createHash('sha256');
    for (let i = 0; i < 20; i++) { const s = shapeSample(0, i); h.update(s.image.data); h.update(s.sketch.data); h.update(s.caption); }
    console.log('fp', h.digest('hex'));
    let worstCount = 0, worstCov = 0, worstSketch = 1, worstAbsCount = 0;
    const t0 = Date.now();
    for (let i = 0; i < 2000; i++) {
      const s = shapeSample(3, i);
      const w = 64; const d = s.image.data;
      const obj = [...d.subarray(((Math.floor(s.placement.cy)) * w + Math.floor(s.placement.cx)) * 3, ((Math.floor(s.placement.cy)) * w + Math.floor(s.placement.cx)) * 3 + 3)];
      const bg = [...d.subarray(0, 3)];
      let k = 0; let best = -1;
      for (let c = 0; c < 3; c++) if (Math.abs(obj[c]! - bg[c]!) > best) { best = Math.abs(obj[c]! - bg[c]!); k = c; }
      let n = 0, cov = 0;
      for (let p = 0; p < w * w; p++) { const a = (d[p * 3 + k]! - bg[k]!) / (obj[k]! - bg[k]!); if (a >= 0.5) n++; cov += a; }
      const A = area(s); const P = perim(s);
      worstCount = Math.max(worstCount, Math.abs(n - A) / P); worstAbsCount = Math.max(worstAbsCount, Math.abs(n - A) / A);
      worstCov = Math.max(worstCov, Math.abs(cov - A) / P);
      let strokes = 0, near = 0;
      for (let p = 0; p < w * w; p++) if (s.sketch.data[p * 3]! > 128) { strokes++; if (Math.abs(shapeDistance(s.attributes.shape, s.placement, (p % w) + 0.5, Math.floor(p / w) + 0.5)) <= 3) near++; }
      worstSketch = Math.min(worstSketch, near / strokes);
    }
    console.log({ worstCount, worstAbsCount, worstCov, worstSketch, ms: Date.now() - t0 });
  });
});
