import { corners, type Placement } from './geometry.js';
import type { SampleRandom } from './random.js';
import type { RgbImage } from './render.js';
import type { ShapeName } from './vocabulary.js';

/**
 * The outline of a shape as a person would draw it: a wobbly closed stroke (points jittered along and across the
 * outline, corners a little off, the end overshooting the start), white on black, about 1.5 px wide, anti-aliased.
 * This is the sketch condition of the ControlNet stage (scribble-style control images).
 */
export function sketchOutline(size: number, shape: ShapeName, p: Placement, rng: SampleRandom): RgbImage {
  const path = outlinePath(shape, p, rng);
  const width = rng.uniform(1.2, 1.8);
  const gray = new Float32Array(size * size);
  for (let i = 0; i + 1 < path.length; i++) strokeSegment(gray, size, path[i]!, path[i + 1]!, width);
  const data = new Uint8Array(size * size * 3);
  for (let k = 0; k < gray.length; k++) data.fill(Math.round(255 * Math.min(1, gray[k]!)), k * 3, k * 3 + 3);
  return { width: size, height: size, data };
}

function outlinePath(shape: ShapeName, p: Placement, rng: SampleRandom): [number, number][] {
  const jitter = Math.max(0.4, p.r * 0.05);
  let pts: [number, number][];
  if (shape === 'circle') {
    const n = Math.max(16, Math.round(p.r * 2));
    const a0 = rng.uniform(0, 2 * Math.PI);
    const squash = rng.uniform(0.92, 1.08);
    pts = [];
    // A slowly varying radius (a hand does not keep it constant), then per-point jitter.
    const phase = rng.uniform(0, 2 * Math.PI);
    const wobble = rng.uniform(0, 0.06);
    for (let k = 0; k <= n; k++) {
      const a = a0 + (2 * Math.PI * k) / n;
      const rr = p.r * (1 + wobble * Math.sin(2 * a + phase));
      pts.push([p.cx + rr * Math.cos(a) * squash, p.cy + rr * Math.sin(a) / squash]);
    }
  } else {
    const cs = corners(shape, p).map(([x, y]) => [x + rng.uniform(-jitter, jitter), y + rng.uniform(-jitter, jitter)] as [number, number]);
    pts = [];
    for (let i = 0; i < cs.length; i++) {
      const [ax, ay] = cs[i]!;
      const [bx, by] = cs[(i + 1) % cs.length]!;
      const steps = Math.max(3, Math.round(Math.hypot(bx - ax, by - ay) / 3));
      for (let s = 0; s < steps; s++) pts.push([ax + ((bx - ax) * s) / steps, ay + ((by - ay) * s) / steps]);
    }
    pts.push(pts[0]!);
  }
  const out = pts.map(([x, y]) => [x + rng.uniform(-jitter, jitter) * 0.5, y + rng.uniform(-jitter, jitter) * 0.5] as [number, number]);
  // Overshoot: the stroke ends a little past where it began.
  const [x0, y0] = out[1] ?? out[0]!;
  out.push([x0 + rng.uniform(-jitter, jitter), y0 + rng.uniform(-jitter, jitter)]);
  return out;
}

/** Max-blend an anti-aliased segment of the given width into `gray`. */
function strokeSegment(gray: Float32Array, size: number, a: readonly [number, number], b: readonly [number, number], width: number): void {
  const half = width / 2;
  const [ax, ay] = a;
  const [bx, by] = b;
  const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - half - 1));
  const x1 = Math.min(size - 1, Math.ceil(Math.max(ax, bx) + half + 1));
  const y0 = Math.max(0, Math.floor(Math.min(ay, by) - half - 1));
  const y1 = Math.min(size - 1, Math.ceil(Math.max(ay, by) + half + 1));
  const ex = bx - ax;
  const ey = by - ay;
  const len2 = ex * ex + ey * ey || 1;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const px = x + 0.5 - ax;
      const py = y + 0.5 - ay;
      const t = Math.max(0, Math.min(1, (px * ex + py * ey) / len2));
      const d = Math.hypot(px - ex * t, py - ey * t);
      const cover = Math.max(0, Math.min(1, half + 0.5 - d));
      const k = y * size + x;
      if (cover > gray[k]!) gray[k] = cover;
    }
  }
}
