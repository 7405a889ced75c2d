/**
 * One-call loading, as diffusers' `from_pretrained`: a repo id, a folder (or URL), or nothing for the platform's
 * default model, on the device asked for. What differs between Node and the browser — finding model files,
 * opening an onnxruntime, caching graphs — is a Platform; @sdxs/runtime-node and @sdxs/runtime-web each register
 * theirs when imported, so `StableDiffusionPipeline.fromPretrained` imported from either just works. The graph
 * target always follows the runtime the platform opened (target.ts).
 */
import type { GraphCache } from './cache/graph-cache.js';
import type { ModelSource, Runtime } from '@sdxs/tensor';
import type { LoadOptions, ModelDefaults } from './pipeline.js';
import type { LoraAdapter, LoraFile } from './lora/load.js';

/** Where to run: a provider, or 'auto' for the best one that works here (with a warning when that is the CPU). */
export type Device = 'auto' | 'cpu' | 'wasm' | 'webgpu' | 'cuda';

export const DEVICES: readonly Device[] = ['auto', 'cpu', 'wasm', 'webgpu', 'cuda'];

/** Download progress of model files: bytes so far of one file. */
export interface DownloadEvent {
  readonly file: string;
  readonly loaded: number;
  readonly total?: number | undefined;
}

export interface PretrainedOptions extends Omit<LoadOptions, 'target' | 'executionProviders' | 'cache' | 'name' | 'defaults'> {
  /** Where to run (default 'auto'). A device named explicitly that does not work here is an error; 'auto' warns and falls back. */
  readonly device?: Device;
  /** Branch, tag or commit of a repo id (default main). */
  readonly revision?: string;
  /**
   * For a single-file checkpoint (`model.safetensors`): a diffusers folder or repo id of the same architecture whose
   * configs, scheduler and tokenizer are used (diffusers' `from_single_file(config=…)`).
   */
  readonly config?: string;
  /** The graph cache: the platform's (on disk in Node, Cache Storage in a browser) by default; false for none. */
  readonly cache?: GraphCache | false;
  /** Told about fallbacks (a device that does not work here) and cache problems; default console.warn. */
  readonly onWarning?: (message: string) => void;
  /** Download progress of repo ids' files. */
  readonly onDownload?: (event: DownloadEvent) => void;
  /** Stops a download in progress. */
  readonly signal?: AbortSignal;
  /** Another platform than the one registered for this environment (tests, embedders). */
  readonly platform?: Platform;
  /**
   * Node: run the sessions in a worker process, so a call's abort stops a graph run at once (the process is killed
   * and replaced) and the event loop stays free while graphs run; costs a copy of each tensor across processes.
   */
  readonly isolate?: boolean;
}

/** A model the platform found: its files, its name for metadata, and what it is meant to run with. */
export interface ResolvedModel {
  readonly source: ModelSource;
  readonly name: string;
  readonly defaults?: ModelDefaults;
}

/** Options a platform needs to find a model. */
export interface ResolveOptions {
  /** What the model is for: a ControlNet pipeline's default model is one with its own controlnet/. */
  readonly kind?: 'text-to-image' | 'controlnet';
  readonly revision?: string | undefined;
  readonly variant?: string | undefined;
  /** See {@link PretrainedOptions.config}. */
  readonly config?: string | undefined;
  readonly onDownload?: ((event: DownloadEvent) => void) | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** An opened runtime and the dtype the platform recommends on it (float16 only where it is known to work). */
export interface OpenedRuntime {
  readonly runtime: Runtime;
  readonly dtype: 'float32' | 'float16';
}

/** What one environment provides to {@link fromPretrainedParts}. */
export interface Platform {
  /** 'node', 'web'. */
  readonly name: string;
  /** Whether this environment can use it (the browser platform is unavailable in Node and the other way round). */
  available(): boolean;
  /** The model `model` names (a repo id, a folder or URL, an embedded model's name); undefined: the default model. */
  resolveModel(model: string | undefined, options: ResolveOptions): Promise<ResolvedModel>;
  /** A runtime on `device`; 'auto' picks the best that works and tells `onWarning` when it falls back. */
  openRuntime(device: Device, options: { readonly onWarning: (message: string) => void; readonly isolate?: boolean | undefined }): Promise<OpenedRuntime>;
  /** The default graph cache, if the environment has one. */
  graphCache(onWarning: (message: string) => void): Promise<GraphCache | undefined>;
  /** A single file by path (a LoRA given as `{ path }`): the source holding it and its name there. */
  fileSource?(path: string): { readonly source: ModelSource; readonly file: string };
}

const platforms: Platform[] = [];

/**
 * Make a platform available to `fromPretrained` (the runtime packages do this when imported). A platform
 * registered again is not added twice.
 */
export function registerPlatform(platform: Platform): void {
  if (!platforms.includes(platform)) platforms.push(platform);
}

/** The platform `fromPretrained` uses here: the first registered that is available. */
export function currentPlatform(): Platform {
  const found = platforms.find((p) => p.available());
  if (found) return found;
  const names = platforms.map((p) => p.name).join(', ');
  throw new Error(
    `fromPretrained: no sdxs platform ${names ? `for this environment (registered: ${names})` : 'is loaded'}: import StableDiffusionPipeline from '@sdxs/runtime-node' (Node) or '@sdxs/runtime-web' (browsers), or pass { platform }`,
  );
}

/**
 * LoRA adapters with their path forms opened through the platform (in Node a LocalFolderSource of the file's
 * folder); `{ source, file }` ones as they are.
 */
export function loraFiles(adapters: readonly LoraAdapter[], platform?: Platform): LoraFile[] {
  return adapters.map((a, i) => {
    if ('source' in a) return a;
    if (typeof a.path !== 'string' || a.path === '') throw new TypeError(`lora[${i}]: give "path" (a file) or "source" and "file"`);
    const p = platform ?? currentPlatform();
    if (!p.fileSource) throw new TypeError(`lora[${i}]: the ${p.name} platform cannot open ${a.path} by path; pass { source, file }`);
    return { ...p.fileSource(a.path), ...(a.scale !== undefined ? { scale: a.scale } : {}) };
  });
}

/** Everything `load` needs, found and opened for `model` as `options` ask. */
export interface PretrainedParts {
  readonly platform: Platform;
  readonly model: ResolvedModel;
  readonly runtime: Runtime;
  readonly options: LoadOptions;
}

/**
 * Resolve the model, open the runtime and put the load options together — the steps `fromPretrained` takes
 * before `load` (the ControlNet pipeline shares them).
 */
export async function fromPretrainedParts(model: string | ModelSource | undefined, options: PretrainedOptions, kind: ResolveOptions['kind'] = 'text-to-image'): Promise<PretrainedParts> {
  const { device = 'auto', revision, config, cache, onWarning = (m: string) => console.warn(m), onDownload, signal, platform: chosen, isolate, ...load } = options;
  if (!DEVICES.includes(device)) throw new TypeError(`fromPretrained: "device" must be one of ${DEVICES.join(', ')}, got ${JSON.stringify(device)}`);
  if (load.dtype !== undefined && load.dtype !== 'float32' && load.dtype !== 'float16') {
    throw new TypeError(`fromPretrained: "dtype" must be float32 or float16, got ${JSON.stringify(load.dtype)}`);
  }
  const platform = chosen ?? currentPlatform();
  const resolved: ResolvedModel =
    typeof model === 'object' && model !== null
      ? { source: model, name: model.id }
      : await platform.resolveModel(model, { kind, revision, variant: load.variant, config, onDownload, signal });
  const opened = await platform.openRuntime(device, { onWarning, isolate });
  // (The runtime holds no sessions yet: nothing to release if what follows fails.)
  const graphCache = cache === false ? undefined : (cache ?? (await platform.graphCache(onWarning)));
  return {
    platform,
    model: resolved,
    runtime: opened.runtime,
    options: {
      ...load,
      ...(load.lora ? { lora: loraFiles(load.lora, platform) } : {}),
      dtype: load.dtype ?? opened.dtype,
      name: resolved.name,
      ...(resolved.defaults ? { defaults: resolved.defaults } : {}),
      ...(graphCache ? { cache: graphCache } : {}),
    },
  };
}
