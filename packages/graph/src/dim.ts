/**
 * Symbolic shapes: a dimension is a number when known while building, or a name (`'batch'`, `'height'`)
 * that stays free until the session runs. Names become ONNX `dim_param`s.
 */
export type Dim = number | string;
export type SymShape = readonly Dim[];

export function formatDims(shape: SymShape): string {
  return `[${shape.join(', ')}]`;
}

export function isStatic(shape: SymShape): shape is readonly number[] {
  return shape.every((d) => typeof d === 'number');
}

/** Product of the dims, or undefined when any is symbolic. */
export function staticSize(shape: SymShape): number | undefined {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return undefined;
    n *= d;
  }
  return n;
}

/** Resolve a possibly negative axis against `rank`; undefined when out of range. */
export function normalizeAxis(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return Number.isInteger(a) && a >= 0 && a < rank ? a : undefined;
}

/**
 * Numpy-style broadcast of several shapes. Returns undefined when two known dims differ and neither is 1.
 * A symbolic dim against a known dim > 1 resolves to the known dim (the runtime checks the rest);
 * two different symbolic names stay the first one, as ONNX shape inference does.
 */
export function broadcastShapes(shapes: readonly SymShape[]): Dim[] | undefined {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const s of shapes) {
      const d = s[s.length - rank + i];
      if (d === undefined || d === 1) continue;
      if (dim === 1) dim = d;
      else if (typeof dim === 'number' && typeof d === 'number') {
        if (dim !== d) return undefined;
      } else if (typeof dim === 'string' && typeof d === 'number') dim = d;
    }
    out.push(dim);
  }
  return out;
}

/** True when two dims can be the same size (equal numbers, or either symbolic). */
export function dimsCompatible(a: Dim, b: Dim): boolean {
  return typeof a === 'string' || typeof b === 'string' || a === b;
}
