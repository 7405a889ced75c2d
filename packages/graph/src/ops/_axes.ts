import { formatDims, normalizeAxis, type SymShape } from '../dim.js';
import { check } from '../errors.js';

/**
 * Resolve possibly negative `axes` against `rank`, refusing out-of-range and repeated axes
 * (ONNX leaves repeats undefined, and runtimes disagree on them).
 */
export function normalizeAxes(op: string, axes: readonly number[], rank: number, shapes?: readonly SymShape[]): number[] {
  const out = axes.map((a) => {
    const n = normalizeAxis(a, rank);
    check(n !== undefined, op, `axis ${a} is out of range for rank ${rank}`, shapes);
    return n;
  });
  check(new Set(out).size === out.length, op, `axes ${formatDims(axes)} repeat an axis`, shapes);
  return out;
}
