import type { GradFn } from './_rule.js';

/** d(x) = dy (Identity nodes are taps and renames; `stopGradient` marks the ones that block). */
export const identityGrad: GradFn = (args) => [() => args.dy];
