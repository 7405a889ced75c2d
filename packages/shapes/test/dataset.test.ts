// The shapes data set: determinism, pinned bytes, attribute coverage, rendering (anti-aliasing, area), captions and
// their parser, the tensor conversion, the sketch condition, forced attributes.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Tensor } from '@sdxs/tensor';
import {
  allAttributeCombinations,
  canonicalCaption,
  COLOR_RGB,
  COLORS,
  corners,
  imagesToTensor,
  parsePrompt,
  SHAPES,
  SHAPES_IMAGE_SIZE,
  shapeDistance,
  shapeSample,
  tensorToImages,
  type RgbImage,
  type ShapeAttributes,
  type ShapeSample,
} from '@sdxs/shapes';

const SIZE = SHAPES_IMAGE_SIZE;
const COUNT = 2000;
// One batch of samples for the whole file (making them is the costly part); seed 3 so that they are not the
// fingerprinted seed-0 samples.
const samples: ShapeSample[] = Array.from({ length: COUNT }, (_, i) => shapeSample(3, i));

function same(a: ShapeSample, b: ShapeSample): boolean {
  return Buffer.from(a.image.data).equals(Buffer.from(b.image.data)) && Buffer.from(a.sketch.data).equals(Buffer.from(b.sketch.data)) && a.caption === b.caption;
}

function pixel(im: RgbImage, x: number, y: number): [number, number, number] {
  const o = (y * im.width + x) * 3;
  return [im.data[o]!, im.data[o + 1]!, im.data[o + 2]!];
}

/**
 * The object's and background's rendered colours: the pixel holding the shape's centre is fully covered (a triangle's
 * centre sits ≥ 0.47·r ≥ 3.7 px inside it) and the corner pixel is fully background (every shape stays within its
 * 1.3·r + 1 margin), so each is exactly one of the two jittered colours.
 */
function colours(s: ShapeSample): { object: [number, number, number]; background: [number, number, number] } {
  return { object: pixel(s.image, Math.floor(s.placement.cx), Math.floor(s.placement.cy)), background: pixel(s.image, 0, 0) };
}

/** The channel where object and background differ most, and by how much. */
function mainChannel(o: readonly number[], b: readonly number[]): { k: number; diff: number } {
  let k = 0;
  for (let c = 1; c < 3; c++) if (Math.abs(o[c]! - b[c]!) > Math.abs(o[k]! - b[k]!)) k = c;
  return { k, diff: o[k]! - b[k]! };
}

function analyticArea(s: ShapeSample): number {
  const { r } = s.placement;
  switch (s.attributes.shape) {
    case 'circle':
      return Math.PI * r * r;
    case 'square':
      return (2 * r) ** 2;
    case 'triangle': {
      const c = corners('triangle', s.placement);
      let twice = 0;
      for (let i = 0; i < c.length; i++) {
        const [x0, y0] = c[i]!;
        const [x1, y1] = c[(i + 1) % c.length]!;
        twice += x0 * y1 - x1 * y0;
      }
      return Math.abs(twice) / 2;
    }
  }
}

function analyticPerimeter(s: ShapeSample): number {
  if (s.attributes.shape === 'circle') return 2 * Math.PI * s.placement.r;
  const c = corners(s.attributes.shape, s.placement);
  return c.reduce((p, [x0, y0], i) => {
    const [x1, y1] = c[(i + 1) % c.length]!;
    return p + Math.hypot(x1 - x0, y1 - y0);
  }, 0);
}

describe('shapeSample is a deterministic function of (seed, index)', () => {
  it('gives the same bytes twice and in any call order', () => {
    const forward = Array.from({ length: 12 }, (_, i) => shapeSample(7, i));
    const backward = Array.from({ length: 12 }, (_, i) => shapeSample(7, 11 - i)).reverse();
    // Interleaved with other seeds, so no hidden state carries from one call to the next.
    const interleaved = Array.from({ length: 12 }, (_, i) => (shapeSample(8, i), shapeSample(7, i)));
    for (let i = 0; i < 12; i++) {
      expect(same(forward[i]!, backward[i]!)).toBe(true);
      expect(same(forward[i]!, interleaved[i]!)).toBe(true);
      expect(forward[i]!.attributes).toEqual(backward[i]!.attributes);
      expect(forward[i]!.placement).toEqual(backward[i]!.placement);
    }
    expect(same(shapeSample(3, 5), samples[5]!)).toBe(true);
  });

  it('differs for other seeds and other indices', () => {
    for (let i = 0; i < 20; i++) {
      expect(same(shapeSample(0, i), shapeSample(1, i))).toBe(false);
      expect(same(shapeSample(0, i), shapeSample(0, i + 1))).toBe(false);
      expect(shapeSample(0, i).placement).not.toEqual(shapeSample(2, i).placement);
    }
  });

  it('gives fixed bytes for a fixed seed (sha256 of samples 0..19 of seed 0)', () => {
    // This constant pins the data set's bytes across machines and versions: images, sketches and captions of
    // seed 0 must never change silently (a trained model and its reported metrics refer to these bytes). Update
    // it only on a deliberate change of the data set, and say so.
    const h = createHash('sha256');
    for (let i = 0; i < 20; i++) {
      const s = shapeSample(0, i);
      h.update(s.image.data);
      h.update(s.sketch.data);
      h.update(s.caption);
    }
    expect(h.digest('hex')).toBe('c09e907b1afa1cef4e7ef938f7e6c906924cdebf5b6a99cd562459385faf5df5');
  });
});

describe('attributes', () => {
  it('never gives the object its background colour, in the attributes or in the pixels', () => {
    let closestPair = Infinity;
    for (const a of COLORS) for (const b of COLORS) if (a !== b) closestPair = Math.min(closestPair, Math.abs(mainChannel(COLOR_RGB[a], COLOR_RGB[b]).diff));
    expect(closestPair).toBe(80);
    for (const s of samples) {
      expect(s.attributes.color).not.toBe(s.attributes.background);
      expect(s.image.width).toBe(SIZE);
      expect(s.image.height).toBe(SIZE);
      expect(s.image.data.length).toBe(SIZE * SIZE * 3);
      // The rendered colours are the named ones jittered by at most ±12 per channel (after rounding) …
      const { object, background } = colours(s);
      const want = COLOR_RGB[s.attributes.color];
      const wantBg = COLOR_RGB[s.attributes.background];
      for (let c = 0; c < 3; c++) {
        expect(Math.abs(object[c]! - want[c]!)).toBeLessThanOrEqual(12);
        expect(Math.abs(background[c]! - wantBg[c]!)).toBeLessThanOrEqual(12);
      }
      // … so two different palette colours stay apart: the closest pair (orange/yellow) differs by 80 in one
      // channel, and jitter takes at most 24 of it.
      expect(Math.abs(mainChannel(object, background).diff)).toBeGreaterThanOrEqual(closestPair - 24);
    }
  });

  it('draws every shape and colour, for the object and the background, about uniformly', () => {
    const shapes = new Map<string, number>();
    const objects = new Map<string, number>();
    const backgrounds = new Map<string, number>();
    const combos = new Set<string>();
    const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
    for (const { attributes: a } of samples) {
      bump(shapes, a.shape);
      bump(objects, a.color);
      bump(backgrounds, a.background);
      combos.add(`${a.shape}/${a.color}/${a.background}`);
    }
    expect([...shapes.keys()].sort()).toEqual([...SHAPES].sort());
    expect([...objects.keys()].sort()).toEqual([...COLORS].sort());
    expect([...backgrounds.keys()].sort()).toEqual([...COLORS].sort());
    // Expected 667 per shape and 250 per colour (binomial sd ≈ 21 and 15): ±5 sd.
    for (const n of shapes.values()) expect(Math.abs(n - COUNT / 3)).toBeLessThan(110);
    for (const n of objects.values()) expect(Math.abs(n - COUNT / 8)).toBeLessThan(75);
    for (const n of backgrounds.values()) expect(Math.abs(n - COUNT / 8)).toBeLessThan(75);
    // 168 combinations, ≈ 12 samples each: all of them occur.
    expect(combos.size).toBe(allAttributeCombinations().length);
  });
});

describe('rendering', () => {
  it('anti-aliases: every image has pixels strictly between the two colours, exactly on the edge', () => {
    for (const s of samples) {
      const { object, background } = colours(s);
      const { k, diff } = mainChannel(object, background);
      let between = 0;
      let worstBlend = 0;
      let worstDistance = 0;
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          const p = pixel(s.image, x, y);
          const t = (p[k]! - background[k]!) / diff;
          if (t <= 0 || t >= 1) continue;
          between++;
          // Each channel is the same blend of the two colours (to rounding) …
          for (let c = 0; c < 3; c++) worstBlend = Math.max(worstBlend, Math.abs(p[c]! - (background[c]! + t * (object[c]! - background[c]!))));
          // … and only pixels whose centre is within half a pixel of the outline are partly covered.
          worstDistance = Math.max(worstDistance, Math.abs(shapeDistance(s.attributes.shape, s.placement, x + 0.5, y + 0.5)));
        }
      }
      expect(worstBlend).toBeLessThanOrEqual(1);
      expect(worstDistance).toBeLessThan(0.5 + 1e-9);
      // The ramp is one pixel wide across the edge, so about one partial pixel per unit of outline length.
      const perimeter = analyticPerimeter(s);
      expect(between).toBeGreaterThan(0.5 * perimeter);
      expect(between).toBeLessThan(1.5 * perimeter);
    }
  });

  it('covers the analytic area of the shape (πr², (2r)², the triangle of `corners`)', () => {
    for (const s of samples) {
      const { object, background } = colours(s);
      const { k, diff } = mainChannel(object, background);
      let count = 0;
      let coverage = 0;
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          const t = (pixel(s.image, x, y)[k]! - background[k]!) / diff;
          if (t >= 0.5) count++;
          coverage += t;
        }
      }
      const area = analyticArea(s);
      const perimeter = analyticPerimeter(s);
      // Pixels closer to the object's colour are those whose centre lies inside the shape. Only the ≈ P pixels the
      // outline crosses (one per unit of its length) can be miscounted, each by at most half a pixel's area on
      // average, so |count − area| ≤ P/2; signs mostly cancel (seen ≤ 0.22·P over these samples). A shape drawn
      // 10 % too large moves the count by ≈ 0.21·area, i.e. 0.5·P (smallest triangles) to 2.3·P (largest circles).
      expect(Math.abs(count - area)).toBeLessThanOrEqual(0.5 * perimeter);
      // The coverage ramp integrates across the edge exactly as the step it smooths, so the summed coverage misses
      // the area only by the sampling error of a smooth edge and at corners (seen ≤ 0.023·P).
      expect(Math.abs(coverage - area)).toBeLessThanOrEqual(0.1 * perimeter);
    }
  });
});

describe('captions and parsePrompt', () => {
  it('parses every caption back to its sample attributes (grammar and parser together, 5000 captions)', () => {
    for (const s of samples) expect(parsePrompt(s.caption), s.caption).toEqual(s.attributes);
    // The caption and attributes are drawn before the image size matters, so 16×16 samples give the same ones
    // (checked on the first 200) and spare rendering 3000 more full-size images.
    for (let i = 0; i < 200; i++) {
      const small = shapeSample(3, i, { size: 16 });
      expect(small.caption).toBe(samples[i]!.caption);
      expect(small.attributes).toEqual(samples[i]!.attributes);
    }
    for (let i = COUNT; i < 5000; i++) {
      const s = shapeSample(3, i, { size: 16 });
      expect(parsePrompt(s.caption), s.caption).toEqual(s.attributes);
    }
  });

  it('uses many different captions', () => {
    expect(new Set(samples.map((s) => s.caption)).size).toBeGreaterThan(COUNT / 2);
  });

  const handWritten: [string, ShapeAttributes][] = [
    ['a crimson disk on a blue background', { shape: 'circle', color: 'red', background: 'blue' }],
    ['a golden wedge on dark', { shape: 'triangle', color: 'yellow', background: 'black' }],
    ['violet box, white backdrop', { shape: 'square', color: 'purple', background: 'white' }],
    ['a blue backdrop with a crimson disk', { shape: 'circle', color: 'red', background: 'blue' }],
    ['a triangle in orange on a green background', { shape: 'triangle', color: 'orange', background: 'green' }],
    ['an image of a white round shape against a black backdrop', { shape: 'circle', color: 'white', background: 'black' }],
    ['on an azure background, a red block', { shape: 'square', color: 'red', background: 'blue' }],
    ['a green dot over purple', { shape: 'circle', color: 'green', background: 'purple' }],
    ['a picture of a square, orange, on a blue backdrop', { shape: 'square', color: 'orange', background: 'blue' }],
    ['a black background and a yellow three-sided shape in front of it', { shape: 'triangle', color: 'yellow', background: 'black' }],
    ['A Crimson Disk On A Blue Background', { shape: 'circle', color: 'red', background: 'blue' }],
  ];
  it.each(handWritten)('parses %j', (prompt, want) => {
    expect(parsePrompt(prompt)).toEqual(want);
  });

  it.each(['a red apple on a blue background', 'a blue background', 'red on blue', '', 'a circle'])('returns undefined for %j (no shape or no colours)', (prompt) => {
    expect(parsePrompt(prompt)).toBeUndefined();
  });

  it('canonicalCaption names the canonical words and parses back, for every combination', () => {
    expect(canonicalCaption({ shape: 'circle', color: 'red', background: 'blue' })).toBe('a red circle on a blue background');
    expect(canonicalCaption({ shape: 'square', color: 'orange', background: 'black' })).toBe('an orange square on a black background');
    for (const a of allAttributeCombinations()) expect(parsePrompt(canonicalCaption(a))).toEqual(a);
  });
});

describe('imagesToTensor / tensorToImages', () => {
  it('round-trips every byte value exactly, NCHW in [−1, 1]', () => {
    const ramp: RgbImage = { width: 16, height: 16, data: Uint8Array.from({ length: 16 * 16 * 3 }, (_, i) => (i * 7) % 256) };
    const all = new Set(ramp.data);
    expect(all.size).toBe(256);
    const images = [ramp, ramp]; // a batch of two, and then real samples
    const t = imagesToTensor(images);
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([2, 3, 16, 16]);
    // NCHW: element [n, c, y, x] is byte (y·w + x)·3 + c of image n, mapped by v/127.5 − 1.
    for (const [c, y, x] of [[0, 0, 0], [1, 3, 5], [2, 15, 15], [2, 7, 1]] as const) {
      expect(t.data[((1 * 3 + c) * 16 + y) * 16 + x]).toBe(Math.fround(ramp.data[(y * 16 + x) * 3 + c]! / 127.5 - 1));
    }
    expect(Math.min(...t.data)).toBe(-1);
    expect(Math.max(...t.data)).toBe(1);
    const back = tensorToImages(t);
    expect(back).toHaveLength(2);
    for (const im of back) {
      expect(im.width).toBe(16);
      expect(im.height).toBe(16);
      expect(Buffer.from(im.data).equals(Buffer.from(ramp.data))).toBe(true);
    }
    const real = samples.slice(0, 8).map((s) => s.image);
    const again = tensorToImages(imagesToTensor(real));
    again.forEach((im, i) => expect(Buffer.from(im.data).equals(Buffer.from(real[i]!.data))).toBe(true));
  });

  it('clamps values outside [−1, 1] and rejects mixed sizes', () => {
    const t = new Tensor('float32', [1, 3, 1, 2], Float32Array.of(-3, 3, 0, 0.999, -1.001, 1.5));
    expect([...tensorToImages(t)[0]!.data]).toEqual([0, 128, 0, 255, 255, 255]);
    const a: RgbImage = { width: 2, height: 2, data: new Uint8Array(12) };
    const b: RgbImage = { width: 3, height: 2, data: new Uint8Array(18) };
    expect(() => imagesToTensor([a, b])).toThrow(RangeError);
  });
});

describe('the sketch condition', () => {
  it('draws its strokes along the shape outline, white on black, around the whole outline', () => {
    let strokes = 0;
    let near = 0;
    for (const s of samples.slice(0, 500)) {
      const { shape } = s.attributes;
      const sk = s.sketch;
      expect(sk.width).toBe(SIZE);
      expect(sk.height).toBe(SIZE);
      let mine = 0;
      let mineNear = 0;
      const stroke: [number, number][] = [];
      let grey = true;
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          const [r, g, b] = pixel(sk, x, y);
          if (g !== r || b !== r) grey = false;
          if (r <= 128) continue;
          mine++;
          stroke.push([x + 0.5, y + 0.5]);
          if (Math.abs(shapeDistance(shape, s.placement, x + 0.5, y + 0.5)) <= 3) mineNear++;
        }
      }
      expect(grey).toBe(true);
      // Not empty: a stroke ≥ 1.2 px wide along an outline of length P has more than P bright pixels.
      const perimeter = analyticPerimeter(s);
      expect(mine).toBeGreaterThan(perimeter);
      // A hand-drawn outline wobbles (squash up to 8 %, radius wobble up to 6 %, jitter), so a few pixels stray.
      expect(mineNear / mine).toBeGreaterThanOrEqual(0.85);
      strokes += mine;
      near += mineNear;
      // And it goes all the way round: points every pixel along the true outline have a stroke pixel within 3 px.
      const onOutline = outlinePoints(s);
      const covered = onOutline.filter(([px, py]) => stroke.some(([x, y]) => Math.hypot(x - px, y - py) <= 3)).length;
      expect(covered / onOutline.length).toBeGreaterThanOrEqual(0.97);
    }
    expect(near / strokes).toBeGreaterThanOrEqual(0.97);
  });
});

/** Points about a pixel apart along the true outline of the sample's shape. */
function outlinePoints(s: ShapeSample): [number, number][] {
  const p = s.placement;
  if (s.attributes.shape === 'circle') {
    const n = Math.ceil(2 * Math.PI * p.r);
    return Array.from({ length: n }, (_, k) => [p.cx + p.r * Math.cos((2 * Math.PI * k) / n), p.cy + p.r * Math.sin((2 * Math.PI * k) / n)]);
  }
  const c = corners(s.attributes.shape, p);
  const out: [number, number][] = [];
  c.forEach(([ax, ay], i) => {
    const [bx, by] = c[(i + 1) % c.length]!;
    const n = Math.ceil(Math.hypot(bx - ax, by - ay));
    for (let k = 0; k < n; k++) out.push([ax + ((bx - ax) * k) / n, ay + ((by - ay) * k) / n]);
  });
  return out;
}

describe('forced attributes', () => {
  it('gives the forced attributes and draws the rest', () => {
    for (let i = 0; i < 60; i++) {
      const all = shapeSample(0, i, { attributes: { shape: 'triangle', color: 'green', background: 'white' } });
      expect(all.attributes).toEqual({ shape: 'triangle', color: 'green', background: 'white' });
      expect(parsePrompt(all.caption)).toEqual(all.attributes);
      const c = colours(all);
      for (let k = 0; k < 3; k++) expect(Math.abs(c.object[k]! - COLOR_RGB.green[k]!)).toBeLessThanOrEqual(12);
      const colour = shapeSample(0, i, { attributes: { color: 'red' } });
      expect(colour.attributes.color).toBe('red');
      expect(colour.attributes.background).not.toBe('red');
      const bg = shapeSample(0, i, { attributes: { background: 'blue' } });
      expect(bg.attributes.background).toBe('blue');
      expect(bg.attributes.color).not.toBe('blue');
      expect(shapeSample(0, i, { attributes: { shape: 'square' } }).attributes.shape).toBe('square');
    }
  });

  it('throws when the forced object and background colours are equal', () => {
    expect(() => shapeSample(0, 0, { attributes: { color: 'red', background: 'red' } })).toThrow(RangeError);
    expect(() => shapeSample(0, 1, { attributes: { shape: 'circle', color: 'white', background: 'white' } })).toThrow(/differ/);
  });
});
