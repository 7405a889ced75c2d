// Signed distances (pixels; negative inside) of the shapes, for anti-aliased rendering by coverage.
import type { ShapeName } from './vocabulary.js';

/** Where and how large a shape is drawn: centre, "radius" (half the extent), rotation in radians. */
export interface Placement {
  readonly cx: number;
  readonly cy: number;
  readonly r: number;
  readonly angle: number;
}

/** The polygon corners of a square or triangle (image coordinates, y down), before any jitter. */
export function corners(shape: Exclude<ShapeName, 'circle'>, p: Placement): [number, number][] {
  const n = shape === 'square' ? 4 : 3;
  // A square's corners sit at r·√2 so that its sides are 2r long; a triangle is inscribed in the circle of radius 1.25r
  // so that its area is close to the square's and circle's at the same r.
  const radius = shape === 'square' ? p.r * Math.SQRT2 : p.r * 1.25;
  const start = shape === 'square' ? Math.PI / 4 : -Math.PI / 2;
  const out: [number, number][] = [];
  for (let k = 0; k < n; k++) {
    const a = start + p.angle + (2 * Math.PI * k) / n;
    // The triangle's centroid is the circle's centre; shift it down a little so it sits visually centred.
    out.push([p.cx + radius * Math.cos(a), p.cy + radius * Math.sin(a) + (shape === 'triangle' ? p.r * 0.15 : 0)]);
  }
  return out;
}

/** Signed distance from (x, y) to a convex polygon given counter- or clockwise. */
export function polygonDistance(poly: readonly (readonly [number, number])[], x: number, y: number): number {
  let inside = true;
  let best = Infinity;
  const n = poly.length;
  let sign = 0;
  for (let i = 0; i < n; i++) {
    const [ax, ay] = poly[i]!;
    const [bx, by] = poly[(i + 1) % n]!;
    const ex = bx - ax;
    const ey = by - ay;
    const wx = x - ax;
    const wy = y - ay;
    const t = Math.max(0, Math.min(1, (wx * ex + wy * ey) / (ex * ex + ey * ey)));
    const dx = wx - ex * t;
    const dy = wy - ey * t;
    best = Math.min(best, dx * dx + dy * dy);
    const cross = ex * wy - ey * wx;
    const s = Math.sign(cross);
    if (s !== 0) {
      if (sign === 0) sign = s;
      else if (s !== sign) inside = false;
    }
  }
  const d = Math.sqrt(best);
  return inside ? -d : d;
}

/** Signed distance from (x, y) to the shape. */
export function shapeDistance(shape: ShapeName, p: Placement, x: number, y: number): number {
  if (shape === 'circle') return Math.hypot(x - p.cx, y - p.cy) - p.r;
  return polygonDistance(corners(shape, p), x, y);
}
