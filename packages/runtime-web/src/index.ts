// @sdxs/runtime-web: sdxs in the browser — onnxruntime-web (WebGPU, WASM), model folders by URL with Cache
// Storage, generation in a Web Worker, ImageData out. The worker side is `@sdxs/runtime-web/worker`. It re-exports
// @sdxs/pipeline with the browser platform registered, so `StableDiffusionPipeline.fromPretrained()` imported from
// here loads in one call, as from @sdxs/runtime-node in Node.
import { registerPlatform } from '@sdxs/pipeline';
import { webPlatform } from './platform.js';

registerPlatform(webPlatform);

export * from '@sdxs/pipeline';
export { createWebPlatform, webPlatform, type WebPlatformOptions } from './platform.js';
export { BackendUnavailableError, chooseBackend, probeBackends, type Backend, type BackendChoice, type BackendPreference, type BackendReport, type WasmReport, type WebGpuReport } from './backend.js';
export { createWebRuntime, type WebRuntime, type WebRuntimeOptions } from './runtime.js';
export { loadOrt, type LoadedOrt, type OrtLoadOptions } from './ort/load.js';
export { ORT_WASM_FILES } from './ort/files.js';
export { fromOrtTensor, toOrtTensor, type OrtModule } from './ort/tensor-convert.js';
export { UrlModelSource, huggingFaceModelUrl, modelNameOf, type UrlModelSourceOptions } from './source/url-source.js';
export { isSingleFileUrl, openSingleFileUrl, type SingleFileUrlOptions } from './source/single-file.js';
export { CacheStorageFileStore, MemoryFileStore, MODEL_CACHE_NAME, clearModelCache, type CacheLike, type FileStore } from './source/file-store.js';
export { downloadToStore, advertisedSha256, IntegrityError, type DownloadOptions, type DownloadProgress, type DownloadProgressCallback } from './source/download.js';
export { BlobByteSource } from './source/blob-source.js';
export { RemoteFile, type RemoteFileParts } from './source/remote-file.js';
export { CacheStorageGraphCache, GRAPH_CACHE_NAME } from './graph-cache.js';
export { isOutOfMemory, SdxsWorkerError } from './errors.js';
export { toImageBitmap, toImageData, type RgbaPixels } from './image.js';
export { SdxsClient, WorkerImage, type CallOptions, type WorkerLike, type WorkerRealtimeImage, type WorkerRealtimeStream } from './worker/client.js';
export { exposeSdxsWorker, SdxsWorkerHost, type HostOptions, type WorkerScope } from './worker/host.js';
export type * from './worker/protocol.js';
