import { GraphError } from '../errors.js';
import { Pad } from '../ops/pad.js';
import { inputAt, type GradFn } from './_rule.js';
import { attrOr, constInts } from './_util.js';

/**
 * A constant-mode Pad is undone by padding with the negated pads (negative pads crop, positive ones
 * restore what a negative pad cropped, as zeros). Reflect/edge padding would need the mirrored positions
 * summed back in; nothing in the models uses it.
 */
export const padGrad: GradFn = (args) => {
  const { node, graph } = args;
  const mode = attrOr(node, 'mode', 'string', 'constant');
  return [
    () => {
      if (mode !== 'constant') throw new GraphError('grad', `Pad: no gradient for mode '${mode}' (only 'constant')`);
      const pads = constInts(graph, node, 1) ?? [];
      const axes = constInts(graph, node, 3);
      return Pad(args.dy, pads.map((p) => -p), axes ? { axes } : {});
    },
  ];
};
