/**
 * The worker side: loads a pipeline on onnxruntime-web and generates on request, one message at a time, so
 * the page's thread only draws. Progress is posted with the id of the request it belongs to.
 */
import { ControlNetPipeline, MemoryGraphCache, StableDiffusionPipeline, type GenerateResult, type GraphCache, type LoadOptions, type ProgressEvent } from '@sdxs/pipeline';
import type { FetchLike, Runtime } from '@sdxs/tensor';
import { chooseBackend, probeBackends, type BackendChoice, type BackendReport } from '../backend.js';
import { serializeError } from '../errors.js';
import { CacheStorageGraphCache } from '../graph-cache.js';
import { createWebRuntime } from '../runtime.js';
import type { DownloadProgress } from '../source/download.js';
import { CacheStorageFileStore, MemoryFileStore, type FileStore } from '../source/file-store.js';
import { modelNameOf, UrlModelSource } from '../source/url-source.js';
import type { FromWorker, GeneratedMessage, LoadedInfo, LoadRequest, ToWorker, WorkerGenerateRequest, WorkerProgress } from './protocol.js';

/** What the host needs of a worker's global scope (a DedicatedWorkerGlobalScope, or a MessagePort in tests). */
export interface WorkerScope {
  postMessage(message: FromWorker, options?: StructuredSerializeOptions): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
}

/** Seams for tests and unusual hosts; browsers need none of them. */
export interface HostOptions {
  /** The runtime for a chosen backend (default: createWebRuntime, i.e. onnxruntime-web). */
  readonly createRuntime?: (choice: BackendChoice, request: LoadRequest) => Promise<Runtime & { readonly threads: number }>;
  /** fetch for model files (default: the global one). */
  readonly fetch?: FetchLike;
  /** What the browser can run (default: probeBackends()). */
  readonly probe?: () => Promise<BackendReport>;
}

interface Loaded {
  readonly t2i: StableDiffusionPipeline;
  readonly controlnet: ControlNetPipeline | undefined;
  readonly info: LoadedInfo;
}

class NotLoadedError extends Error {
  override readonly name = 'NotLoadedError';
}

function parseSeed(seed: number | string | undefined): number | bigint | undefined {
  if (seed === undefined || typeof seed === 'number') return seed;
  if (!/^\d+$/.test(seed)) throw new RangeError(`generate: "seed" must be a non-negative integer, got ${JSON.stringify(seed)}`);
  return BigInt(seed);
}

export class SdxsWorkerHost {
  readonly #scope: WorkerScope;
  readonly #options: HostOptions;
  #queue: Promise<void> = Promise.resolve();
  #loaded: Loaded | undefined;
  /** The request progress events belong to (requests run one at a time). */
  #current = 0;
  #graphCache: GraphCache | undefined;

  constructor(scope: WorkerScope, options: HostOptions = {}) {
    this.#scope = scope;
    this.#options = options;
    scope.addEventListener('message', (event) => this.handle(event.data));
  }

  /** Queue a message from the page. */
  handle(message: ToWorker): void {
    this.#queue = this.#queue.then(() => this.#process(message));
  }

  async #process(message: ToWorker): Promise<void> {
    this.#current = message.id;
    try {
      switch (message.type) {
        case 'load':
          this.#post({ id: message.id, type: 'loaded', info: await this.#load(message.request) });
          break;
        case 'generate': {
          const image = await this.#generate(message.request);
          this.#post({ id: message.id, type: 'generated', image }, [image.data.buffer]);
          break;
        }
        case 'dispose':
          await this.#dispose();
          this.#post({ id: message.id, type: 'disposed' });
          break;
      }
    } catch (e) {
      const fallback = message.type === 'load' ? 'model-load' : e instanceof NotLoadedError ? 'not-loaded' : 'generate';
      this.#post({ id: message.id, type: 'error', error: serializeError(e, fallback) });
    }
  }

  #post(message: FromWorker, transfer: Transferable[] = []): void {
    this.#scope.postMessage(message, { transfer });
  }

  #progress = (event: WorkerProgress): void => {
    this.#post({ id: this.#current, type: 'progress', event });
  };

  async #load(request: LoadRequest): Promise<LoadedInfo> {
    await this.#dispose();
    const t0 = performance.now();
    const report = await (this.#options.probe ?? probeBackends)();
    const choice = chooseBackend(report, request.backend ?? 'auto', { float16: request.float16 ?? true });
    const runtime = this.#options.createRuntime
      ? await this.#options.createRuntime(choice, request)
      : await createWebRuntime({
          backend: choice.backend,
          ...(request.wasmPaths !== undefined ? { wasmPaths: request.wasmPaths } : {}),
          ...(request.numThreads !== undefined ? { numThreads: request.numThreads } : {}),
        });
    const notes = [...choice.notes];
    let store: FileStore | undefined;
    if (request.cache !== false) store = await CacheStorageFileStore.open();
    if (request.cache !== false && !store) notes.push('Cache Storage is unavailable here: model files are downloaded again on the next visit');
    const sourceOptions = {
      store: store ?? new MemoryFileStore(),
      onProgress: (p: DownloadProgress) => this.#progress({ stage: 'download', ...p }),
      ...(request.headers ? { headers: request.headers } : {}),
      ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
    };
    this.#graphCache ??= (request.cache !== false ? await CacheStorageGraphCache.open() : undefined) ?? new MemoryGraphCache();
    const options: LoadOptions = {
      target: choice.backend,
      dtype: choice.dtype,
      cache: this.#graphCache,
      // The text encoder and one image graph: each image graph holds its own copy of the U-Net weights, and the
      // WebAssembly heap stops at 4 GiB.
      maxSessions: 2,
      ...(request.lowering ? { lowering: request.lowering } : {}),
      onProgress: (event: ProgressEvent) => this.#progress(event),
    };
    const source = new UrlModelSource(request.model, sourceOptions);
    const named: LoadOptions = { ...options, name: modelNameOf(request.model) };
    let controlnet: ControlNetPipeline | undefined;
    let t2i: StableDiffusionPipeline;
    if (request.controlnet !== undefined) {
      controlnet = await ControlNetPipeline.load(source, new UrlModelSource(request.controlnet, sourceOptions), runtime, named);
      t2i = controlnet.base;
    } else {
      t2i = await StableDiffusionPipeline.load(source, runtime, named);
    }
    const size = t2i.defaultSize;
    const info: LoadedInfo = {
      backend: choice.backend,
      dtype: choice.dtype,
      runtime: runtime.name,
      threads: runtime.threads,
      report,
      notes,
      ...(size ? { defaultSize: size } : {}),
      vaeScaleFactor: t2i.components.vae.spatialFactor,
      controlnet: controlnet !== undefined,
      cached: store !== undefined,
      loadMs: performance.now() - t0,
    };
    this.#loaded = { t2i, controlnet, info };
    return info;
  }

  async #generate(request: WorkerGenerateRequest): Promise<GeneratedMessage> {
    const loaded = this.#loaded;
    if (!loaded) throw new NotLoadedError('no model is loaded: send a load request first');
    if (typeof request !== 'object' || request === null) throw new TypeError('generate: expected a request object');
    const seed = parseSeed(request.seed);
    const base = {
      prompt: request.prompt,
      ...(request.negativePrompt !== undefined ? { negativePrompt: request.negativePrompt } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(request.width !== undefined ? { width: request.width } : {}),
      ...(request.height !== undefined ? { height: request.height } : {}),
      ...(request.steps !== undefined ? { steps: request.steps } : {}),
      ...(request.guidanceScale !== undefined ? { guidanceScale: request.guidanceScale } : {}),
    };
    let result: GenerateResult;
    const control = request.control;
    if (control) {
      if (!loaded.controlnet) throw new NotLoadedError('this model was loaded without a ControlNet: pass `controlnet` to load() to use control images');
      result = await loaded.controlnet.generate({
        ...base,
        image: control.image,
        controlMode: control.mode ?? 'raw',
        ...(control.scale !== undefined ? { controlScale: control.scale } : {}),
        ...(control.alpha ? { controlOptions: { alpha: control.alpha } } : {}),
      });
    } else {
      result = await loaded.t2i.generate(base);
    }
    const image = result.images[0];
    if (!image) throw new Error('the pipeline returned no image');
    // The images are views of one buffer: copy this one out so its own buffer can be transferred.
    return {
      width: image.width,
      height: image.height,
      data: image.data.slice(),
      ...(result.seed !== undefined ? { seed: result.seed.toString() } : {}),
      parameters: image.parameters,
      timings: result.timings,
      backend: loaded.info.backend,
    };
  }

  async #dispose(): Promise<void> {
    const loaded = this.#loaded;
    this.#loaded = undefined;
    if (!loaded) return;
    await (loaded.controlnet ?? loaded.t2i).dispose();
  }
}

/**
 * Serve generation requests in this worker. The app's worker file is one line:
 *
 * @example
 * // worker.ts, started with new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' })
 * import { exposeSdxsWorker } from '@sdxs/runtime-web/worker';
 * exposeSdxsWorker();
 */
export function exposeSdxsWorker(scope: WorkerScope = self, options: HostOptions = {}): SdxsWorkerHost {
  return new SdxsWorkerHost(scope, options);
}
