import { attr } from '../attributes.js';
import { dimsCompatible, normalizeAxis, type Dim } from '../dim.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { checkSameDType } from './_helpers.js';
import { freshDim } from './_fresh-dim.js';

/**
 * ONNX Concat along `axis` (negative counts from the end). All inputs share rank, dtype and every dim
 * but `axis`; the output's `axis` dim is the sum (a new symbolic dim when any part is symbolic).
 *
 * @example
 * const y = Concat([a, b], 1); // [2, 3] and [2, 4] -> [2, 7]
 */
export function Concat(inputs: readonly Value[], axis: number): Value {
  const op = 'Concat';
  const first = inputs[0];
  check(first !== undefined, op, 'needs at least one input');
  const shapes = inputs.map((v) => v.shape);
  checkSameDType(op, inputs);
  const rank = first.rank;
  check(rank > 0 && inputs.every((v) => v.rank === rank), op, 'inputs must share a rank ≥ 1', shapes);
  const ax = normalizeAxis(axis, rank);
  check(ax !== undefined, op, `axis ${axis} is out of range for rank ${rank}`, shapes);
  const shape: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    if (i === ax) {
      const parts = inputs.map((v) => v.shape[i]!);
      const known = parts.every((d): d is number => typeof d === 'number');
      shape.push(known ? parts.reduce((s, d) => s + d, 0) : freshDim(first.graph, `${first.name}_concat${i}`));
      continue;
    }
    // Prefer a known size over a symbolic one: the runtime checks that they agree.
    let dim = first.shape[i]!;
    for (const v of inputs) {
      const d = v.shape[i]!;
      check(dimsCompatible(dim, d), op, `dim ${i} differs (${dim} vs ${d}) outside axis ${ax}`, shapes);
      if (typeof d === 'number') dim = d;
    }
    shape.push(dim);
  }
  const [y] = first.graph.addNode({ opType: op, inputs, attributes: { axis: attr.int(ax) }, outputs: [{ dtype: first.dtype, shape }] });
  return y!;
}
