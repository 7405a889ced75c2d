export { attention, type AttentionOptions } from './attention.js';
export { gelu, type GeluApproximation } from './gelu.js';
export { groupNorm, type GroupNormOptions } from './group-norm.js';
export { layerNorm, type LayerNormOptions } from './layer-norm.js';
export { quickGelu, QUICK_GELU_ALPHA } from './quick-gelu.js';
export { silu } from './silu.js';
