export * from './dtype.js';
export * from './shape.js';
export * from './tensor.js';
export type * from './interfaces.js';
export * from './half/index.js';
export * from './random/index.js';
export * from './safetensors/index.js';
export * from './image/index.js';
export { fmaf } from './random/fma.js';
