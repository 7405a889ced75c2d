export { createNodeRuntime, type NodeRuntimeOptions } from './runtime.js';
export { fromOrtTensor, toOrtTensor } from './tensor-convert.js';
export { LocalFolderSource } from './sources/local-folder.js';
export { resolveInside } from './sources/safe-path.js';
export * from './hub/index.js';
export { openNodeRuntime, type NodeRuntime, type OpenNodeRuntimeOptions } from './runtime.js';
export * from './providers/index.js';
export { prepareExternalData, type ExternalDataEntry, type PreparedExternalData } from './external-data/prepare.js';
export { DiskGraphCache, defaultGraphCacheDir, type DiskGraphCacheOptions } from './graph-cache/index.js';
