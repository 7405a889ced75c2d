import { GraphError } from '../errors.js';
import { ReduceSum } from '../ops/reduce-sum.js';
import { Reshape } from '../ops/reshape.js';
import type { Value } from '../value.js';
import { inputAt, outputAt, type GradFn } from './_rule.js';
import { attrOr } from './_util.js';

/** Coordinate modes under which nearest upsampling by an integer factor k copies each input to a k-block. */
function blockNearest(coord: string, nearest: string): boolean {
  if (coord === 'asymmetric') return nearest === 'floor';
  // (i + ½)/k − ½ stays within ±½ of the block's source index for every i of the block.
  return (coord === 'half_pixel' || coord === 'pytorch_half_pixel') && (nearest === 'round_prefer_floor' || nearest === 'round_prefer_ceil');
}

/**
 * Nearest upsampling by integer factors (the SD up-sampler) copies each input to a k×k block, so the
 * gradient is the block sum: dy reshaped so each scaled axis splits into (size, k), summed over the k's.
 * Other resizes (linear, downscaling, non-integer factors) have no rule yet.
 */
export const resizeGrad: GradFn = (args) => {
  const { node } = args;
  const x = inputAt(args, 0);
  const y = outputAt(args);
  return [
    () => {
      const mode = attrOr(node, 'mode', 'string', 'nearest');
      const coord = attrOr(node, 'coordinate_transformation_mode', 'string', 'half_pixel');
      const nearest = attrOr(node, 'nearest_mode', 'string', 'round_prefer_floor');
      if (mode !== 'nearest' || !blockNearest(coord, nearest)) {
        throw new GraphError('grad', `Resize: no gradient for mode ${mode} with ${coord}/${nearest}; only nearest upsampling by integer factors (asymmetric/floor or half_pixel)`);
      }
      const split: (number | 'keep')[] = [];
      const factors: number[] = [];
      x.shape.forEach((d, a) => {
        const o = y.shape[a]!;
        if (d === o) return split.push('keep');
        if (typeof d !== 'number' || typeof o !== 'number' || o % d !== 0 || o < d) {
          throw new GraphError('grad', `Resize: the gradient needs static sizes with an integer upsampling factor on axis ${a}, got ${x} → ${y}`);
        }
        split.push(d);
        factors.push(o / d);
      });
      return blockSum(args.dy, x, split, factors);
    },
  ];
};

/** Sum dy over k-blocks: split each scaled axis into (size, k) by a Reshape and reduce the k axes. */
function blockSum(dy: Value, x: Value, split: readonly (number | 'keep')[], factors: readonly number[]): Value {
  const target: number[] = [];
  const summed: number[] = [];
  let symbolic = false;
  let f = 0;
  split.forEach((s, a) => {
    const before = split.slice(0, a).every((t) => t === 'keep');
    if (s === 'keep') {
      const d = x.shape[a]!;
      // A kept dim before any split axis sits at the same position in the reshape, where 0 copies it.
      if (typeof d === 'number') target.push(d);
      else if (before) target.push(0);
      else if (!symbolic) {
        symbolic = true;
        target.push(-1);
      } else throw new GraphError('grad', `Resize: too many symbolic dims after the scaled axes in ${x}`);
      return;
    }
    target.push(s, factors[f++]!);
    summed.push(target.length - 1);
  });
  return ReduceSum(Reshape(dy, target), summed, false);
}
