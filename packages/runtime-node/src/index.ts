// @sdxs/runtime-node: sdxs in Node — onnxruntime-node (cpu, webgpu, cuda), model folders, the Hugging Face cache,
// the graph cache, the embedded models. It re-exports @sdxs/pipeline with the Node platform registered, so
// `StableDiffusionPipeline.fromPretrained()` imported from here loads in one call (as @tensorflow/tfjs-node does
// for tfjs).
import { registerPlatform } from '@sdxs/pipeline';
import { nodePlatform } from './platform.js';

registerPlatform(nodePlatform);

export * from '@sdxs/pipeline';
export { nodePlatform } from './platform.js';
export { createNodeRuntime, type NodeRuntimeOptions } from './runtime.js';
export { fromOrtTensor, toOrtTensor } from './tensor-convert.js';
export { LocalFolderSource } from './sources/local-folder.js';
export { resolveInside } from './sources/safe-path.js';
export { isSingleFile, openSingleFile, type OpenSingleFileOptions } from './sources/single-file.js';
export * from './hub/index.js';
export { openNodeRuntime, type NodeRuntime, type OpenNodeRuntimeOptions } from './runtime.js';
export { IsolatedNodeRuntime, type IsolatedRuntimeStats } from './isolated/runtime.js';
export * from './providers/index.js';
export { prepareExternalData, type ExternalDataEntry, type PreparedExternalData } from './external-data/prepare.js';
export { DiskGraphCache, defaultGraphCacheDir, type DiskGraphCacheOptions } from './graph-cache/index.js';
export { embeddedModels, embeddedModel, embeddedPackageDir, type EmbeddedModel, type EmbeddedModels } from './embedded.js';
