export { createNodeRuntime, type NodeRuntimeOptions } from './runtime.js';
export { fromOrtTensor, toOrtTensor } from './tensor-convert.js';
