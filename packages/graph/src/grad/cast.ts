import { Cast } from '../ops/cast.js';
import { inputAt, type GradFn } from './_rule.js';

/**
 * d cast(x) = dy cast back to x's dtype (an upcast attention's float16 ↔ float32). Casts to integer or bool
 * carry no gradient: the backward pass only follows float values.
 */
export const castGrad: GradFn = (args) => [() => Cast(args.dy, inputAt(args, 0).dtype)];
