import { attr, type AttrValue } from '../attributes.js';
import { formatDims, normalizeAxis, type Dim } from '../dim.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { freshDim } from './_fresh-dim.js';
import { int64s } from './_helpers.js';

/**
 * ONNX Split along `axis`. `split` is either the list of part sizes (they must add up to the dim when it
 * is known) or a number of parts: as in opset 18's `num_outputs`, every part has ceil(dim / parts)
 * elements and the last one takes what is left.
 *
 * The number form is emitted as `num_outputs` from opset 18; at opset 17 the sizes are computed here when
 * the dim is known, and otherwise the parts must be equal (the runtime then divides the dim evenly).
 *
 * @example
 * const [q, k, v] = Split(qkv, 3, -1); // [2, 5, 3·64] -> three [2, 5, 64]
 */
export function Split(x: Value, split: number | readonly number[], axis = 0): Value[] {
  const op = 'Split';
  const shapes = [x.shape];
  const ax = normalizeAxis(axis, x.rank);
  check(ax !== undefined, op, `axis ${axis} is out of range for rank ${x.rank}`, shapes);
  const dim = x.shape[ax]!;
  const g = x.graph;
  const attributes: Record<string, AttrValue> = { axis: attr.int(ax) };
  let sizes: number[] | undefined;
  let parts: number;
  let splitInput: Value | undefined;
  if (typeof split === 'number') {
    parts = split;
    check(Number.isInteger(parts) && parts >= 1, op, `the number of parts must be a positive integer, got ${parts}`, shapes);
    if (typeof dim === 'number') {
      const chunk = Math.ceil(dim / parts);
      check(chunk * (parts - 1) < dim || (dim === 0 && parts === 1), op, `cannot split dim ${dim} into ${parts} non-empty parts`, shapes);
      sizes = Array.from({ length: parts }, (_, i) => Math.min(chunk, dim - chunk * i));
    }
    if (g.opset >= 18) attributes['num_outputs'] = attr.int(parts);
    else if (sizes) splitInput = int64s(g, sizes, 'split');
  } else {
    parts = split.length;
    check(parts >= 1 && split.every((s) => Number.isInteger(s) && s >= 0), op, `invalid split sizes ${formatDims(split)}`, shapes);
    const total = split.reduce((s, d) => s + d, 0);
    check(typeof dim !== 'number' || total === dim, op, `sizes ${formatDims(split)} add up to ${total}, not dim ${ax} = ${dim}`, shapes);
    sizes = [...split];
    splitInput = int64s(g, sizes, 'split');
  }
  const outputs = Array.from({ length: parts }, (_, i) => {
    const shape: Dim[] = [...x.shape];
    shape[ax] = sizes?.[i] ?? freshDim(g, `${x.name}_split${ax}`);
    return { dtype: x.dtype, shape };
  });
  return g.addNode({ opType: op, inputs: splitInput ? [x, splitInput] : [x], attributes, outputs });
}
