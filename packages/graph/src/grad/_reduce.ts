import { Unsqueeze } from '../ops/unsqueeze.js';
import type { Value } from '../value.js';
import { inputAt, type GradArgs } from './_rule.js';
import { attrOr, constInts } from './_util.js';

/** A Reduce* node's reduced axes (an input or an attribute, by opset; every axis when none are listed). */
export function reduceAxes(args: GradArgs): { axes: number[]; keepdims: boolean; noop: boolean } {
  const { node, graph } = args;
  const x = inputAt(args, 0);
  const listed = constInts(graph, node, 1) ?? attrOr(node, 'axes', 'ints', []);
  // noop_with_empty_axes: an empty list then means "reduce nothing" instead of "reduce everything".
  const noop = listed.length === 0 && attrOr(node, 'noop_with_empty_axes', 'int', 0) !== 0;
  const axes = listed.length === 0 ? [...Array(x.rank).keys()] : listed.map((a) => (a < 0 ? a + x.rank : a));
  return { axes: [...axes].sort((a, b) => a - b), keepdims: attrOr(node, 'keepdims', 'int', 1) !== 0, noop };
}

/** `v` (dy or the output) with the reduced axes restored as 1s, so that it broadcasts against x. */
export function withKeptDims(v: Value, axes: readonly number[], keepdims: boolean): Value {
  return keepdims || axes.length === 0 ? v : Unsqueeze(v, axes);
}
