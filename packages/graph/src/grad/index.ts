export { grad, type GradOptions } from './backward.js';
export { stopGradient, isStopGradient } from './stop-gradient.js';
export { GRAD_RULES, type GradOpType } from './rules.js';
export type { GradArgs, GradFn, GradRule, LazyGrad } from './_rule.js';
export { reduceToShape } from './_reduce-to-shape.js';
