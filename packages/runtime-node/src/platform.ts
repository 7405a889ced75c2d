/**
 * The Node platform of `StableDiffusionPipeline.fromPretrained` (see @sdxs/pipeline's pretrained.ts): models from
 * a folder, an embedded model's name or nothing (the embedded default, offline), or a Hugging Face repo id through
 * the shared cache; onnxruntime-node on the device asked for; built graphs cached on disk ($SDXS_CACHE/graphs).
 */
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Device, OpenedRuntime, Platform, ResolvedModel, ResolveOptions } from '@sdxs/pipeline';
import { embeddedModel, embeddedModels, type EmbeddedModel } from './embedded.js';
import { DiskGraphCache, defaultGraphCacheDir } from './graph-cache/index.js';
import { resolveModel, type DownloadProgress } from './hub/index.js';
import { resolveProvider } from './providers/index.js';
import { openNodeRuntime } from './runtime.js';
import { LocalFolderSource } from './sources/local-folder.js';
import { isSingleFile, openSingleFile } from './sources/single-file.js';

function fromEmbedded(m: EmbeddedModel): ResolvedModel {
  return {
    source: new LocalFolderSource(m.path),
    name: m.name,
    defaults: { steps: m.steps, guidanceScale: m.guidanceScale, ...(m.controlScale !== undefined ? { controlScale: m.controlScale } : {}) },
  };
}

/** The embedded model for no name: the default one, or for a ControlNet the one with its own sketch ControlNet. */
function defaultModel(kind: ResolveOptions['kind']): ResolvedModel {
  const all = embeddedModels();
  const m = kind === 'controlnet' ? all.sketch : all.default;
  if (!m) throw new Error('the embedded models (@sdxs/model-micro) have no model with a ControlNet; name one');
  return fromEmbedded(m);
}

async function resolveNodeModel(model: string | undefined, options: ResolveOptions): Promise<ResolvedModel> {
  if (model === undefined) return defaultModel(options.kind);
  if (typeof model !== 'string' || model === '') throw new TypeError(`fromPretrained: the model must be a repo id, a folder or an embedded model's name, got ${JSON.stringify(model)}`);
  // A folder of that name wins over an embedded model's name, as in the CLI.
  const path = resolve(model);
  const onDownload = options.onDownload;
  const hub = {
    ...(onDownload ? { onProgress: (p: DownloadProgress) => onDownload({ file: p.file, loaded: p.fileBytes, total: p.fileTotal }) } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  if (await isSingleFile(path)) {
    const source = await openSingleFile(path, { ...hub, config: options.config });
    return { source, name: basename(path).replace(/\.safetensors$/i, '') };
  }
  if (existsSync(path)) return { source: new LocalFolderSource(path), name: basename(path) };
  const embedded = embeddedModel(model);
  if (embedded) return fromEmbedded(embedded);
  const source = await resolveModel(model, {
    ...(options.revision ? { revision: options.revision } : {}),
    ...(options.variant ? { variant: options.variant } : {}),
    ...hub,
  });
  return { source, name: model };
}

async function openNodeDevice(device: Device, options: { readonly onWarning: (message: string) => void; readonly isolate?: boolean | undefined }): Promise<OpenedRuntime> {
  const { onWarning } = options;
  const isolate = options.isolate === true;
  if (device === 'wasm') throw new TypeError(`fromPretrained: device 'wasm' is the browser's CPU backend; in Node use 'cpu' (or 'auto')`);
  if (device === 'auto') {
    const found: string[] = [];
    // Each unavailable GPU provider is told, once, with how to get it; then the CPU runs.
    const provider = await resolveProvider(['cuda', 'webgpu'], { onWarning: (m) => found.push(m) });
    if (provider === 'cpu') onWarning(`device 'auto': no GPU execution provider works here, running on the CPU (${found.join('; ')})`);
    return { runtime: await openNodeRuntime({ provider, onWarning, isolate }), dtype: 'float32' };
  }
  // A device named explicitly must work: no silent CPU run.
  return { runtime: await openNodeRuntime({ provider: device, fallback: false, onWarning, isolate }), dtype: 'float32' };
}

/** onnxruntime-node, the Hugging Face cache, the embedded models and the disk graph cache. */
export const nodePlatform: Platform = {
  name: 'node',
  available: () => typeof process !== 'undefined' && typeof process.versions?.node === 'string',
  resolveModel: resolveNodeModel,
  openRuntime: openNodeDevice,
  graphCache: async (onWarning) => new DiskGraphCache({ dir: defaultGraphCacheDir(process.env), onWarning }),
  // A LoRA file by path: its folder as the source (relative paths from the process's cwd).
  fileSource: (path) => ({ source: new LocalFolderSource(dirname(resolve(path))), file: basename(path) }),
};
