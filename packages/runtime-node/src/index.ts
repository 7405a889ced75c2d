export { createNodeRuntime, type NodeRuntimeOptions } from './runtime.js';
export { fromOrtTensor, toOrtTensor } from './tensor-convert.js';
export { LocalFolderSource } from './sources/local-folder.js';
export { resolveInside } from './sources/safe-path.js';
export * from './hub/index.js';
