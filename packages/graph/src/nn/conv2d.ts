import { Conv } from '../ops/conv.js';
import type { Params } from '../params.js';
import type { Value } from '../value.js';

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
  groups?: number;
  bias?: boolean;
}

/**
 * torch.nn.Conv2d with a square kernel: `weight` [out, in/groups, k, k] and `bias` [out] under `p`.
 *
 * @example
 * const h = conv2d(unet.child('conv_in'), sample, 4, 320, 3, { padding: 1 });
 */
export function conv2d(p: Params, x: Value, inChannels: number, outChannels: number, kernel: number, options: Conv2dOptions = {}): Value {
  const { stride = 1, padding = 0, groups = 1, bias = true } = options;
  const w = p.param('weight', [outChannels, inChannels / groups, kernel, kernel]);
  const b = bias ? p.param('bias', [outChannels]) : undefined;
  return Conv(x, w, b, { strides: [stride, stride], pads: [padding, padding, padding, padding], group: groups });
}
