/**
 * The browser platform of `StableDiffusionPipeline.fromPretrained` (see @sdxs/pipeline's pretrained.ts): a model
 * folder by URL or a Hugging Face repo id (its `resolve/` URLs), files kept in Cache Storage; onnxruntime-web on
 * WebGPU or WebAssembly; built graphs in Cache Storage. Works in a page and in a worker.
 */
import type { Device, OpenedRuntime, Platform, ResolvedModel, ResolveOptions } from '@sdxs/pipeline';
import type { Runtime } from '@sdxs/tensor';
import { chooseBackend, probeBackends, type Backend, type BackendChoice, type BackendReport } from './backend.js';
import { CacheStorageGraphCache } from './graph-cache.js';
import { createWebRuntime, type WebRuntimeOptions } from './runtime.js';
import type { DownloadProgress } from './source/download.js';
import { CacheStorageFileStore } from './source/file-store.js';
import { isSingleFileUrl, openSingleFileUrl } from './source/single-file.js';
import { huggingFaceModelUrl, modelNameOf, UrlModelSource, type UrlModelSourceOptions } from './source/url-source.js';

export interface WebPlatformOptions extends Omit<WebRuntimeOptions, 'backend' | 'onWarning'> {
  /** Options of the URL model sources (headers such as a Hugging Face token, a file store, fetch). */
  readonly source?: Omit<UrlModelSourceOptions, 'onProgress' | 'signal'>;
  /** The Hugging Face endpoint for repo ids (default https://huggingface.co). */
  readonly endpoint?: string;
  /** What the browser can run (default: probeBackends()); as the worker host takes it. */
  readonly probe?: () => Promise<BackendReport>;
  /** Open the runtime for the chosen backend (default: createWebRuntime); as the worker host takes it. */
  readonly createRuntime?: (choice: BackendChoice) => Promise<Runtime>;
}

/** `owner/name`, as opposed to a URL or a path. */
function isRepoId(model: string): boolean {
  return /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(model) && !model.startsWith('.');
}

/**
 * A browser platform with its own settings (where onnxruntime-web's files are served, request headers); the one
 * registered by default uses the defaults (`/ort/` on this origin).
 *
 * @example
 * const pipe = await StableDiffusionPipeline.fromPretrained('/models/sdxs/', { platform: createWebPlatform({ wasmPaths: '/static/ort/' }) });
 */
export function createWebPlatform(options: WebPlatformOptions = {}): Platform {
  const { source: sourceOptions, endpoint, probe = probeBackends, createRuntime, ...runtimeOptions } = options;
  return {
    name: 'web',
    // A page or a worker: Node has neither `window` nor `WorkerGlobalScope` (Node ≥ 21 has `navigator`, so not that).
    available: () => typeof (globalThis as { window?: unknown }).window !== 'undefined' || typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined',
    async resolveModel(model: string | undefined, o: ResolveOptions): Promise<ResolvedModel> {
      if (model === undefined) throw new TypeError('fromPretrained: in a browser name the model: a Hugging Face repo id or the URL of a diffusers folder');
      const store = sourceOptions?.store ?? (await CacheStorageFileStore.open());
      const onDownload = o.onDownload;
      const url = isRepoId(model) ? huggingFaceModelUrl(model, { ...(o.revision ? { revision: o.revision } : {}), ...(endpoint ? { endpoint } : {}) }) : model;
      const urlOptions = {
        ...sourceOptions,
        ...(store ? { store } : {}),
        ...(onDownload ? { onProgress: (p: DownloadProgress) => onDownload({ file: p.file, loaded: p.loaded, total: p.total }) } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      };
      if (isSingleFileUrl(url)) {
        const config = o.config === undefined ? undefined : isRepoId(o.config) ? huggingFaceModelUrl(o.config, endpoint ? { endpoint } : {}) : o.config;
        const source = await openSingleFileUrl(url, { ...urlOptions, config, endpoint });
        return { source, name: modelNameOf(url).replace(/\.safetensors$/i, '') };
      }
      const source = new UrlModelSource(url, urlOptions);
      return { source, name: isRepoId(model) ? model : modelNameOf(source.base) };
    },
    async openRuntime(device: Device, { onWarning }: { readonly onWarning: (message: string) => void }): Promise<OpenedRuntime> {
      if (device === 'cuda') throw new TypeError("fromPretrained: device 'cuda' is Node's; in a browser use 'webgpu', 'wasm' (the CPU) or 'auto'");
      const preference: Backend | 'auto' = device === 'cpu' ? 'wasm' : device;
      const choice = chooseBackend(await probe(), preference);
      for (const note of choice.notes) onWarning(note);
      const runtime = createRuntime ? await createRuntime(choice) : await createWebRuntime({ ...runtimeOptions, backend: choice.backend, onWarning });
      return { runtime, dtype: choice.dtype };
    },
    graphCache: async () => CacheStorageGraphCache.open(),
  };
}

/** The default browser platform, registered when @sdxs/runtime-web is imported. */
export const webPlatform: Platform = createWebPlatform();
