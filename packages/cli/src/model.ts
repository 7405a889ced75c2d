/** The model flags shared by generate, info and convert, and opening what they name. */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Target } from '@sdxs/graph';
import { ControlNetPipeline, StableDiffusionPipeline, type LoadOptions, type LoraFile } from '@sdxs/pipeline';
import type { ModelSource } from '@sdxs/tensor';
import {
  DiskGraphCache,
  defaultGraphCacheDir,
  embeddedModel,
  embeddedModels,
  type EmbeddedModel,
  isSingleFile,
  openSingleFile,
  resolveModel,
  type ProviderName,
  openNodeRuntime,
  type NodeRuntime,
  LocalFolderSource,
} from '@sdxs/runtime-node';
import { choiceFlag, intFlag, numberFlag, providerFlag } from './args.js';
import { UsageError } from './errors.js';
import type { CliIO } from './io.js';
import type { Reporter } from './progress.js';

/** util.parseArgs options saying which model files to read and how to build its graphs. */
export const SOURCE_OPTIONS = {
  revision: { type: 'string' },
  variant: { type: 'string' },
  vae: { type: 'string' },
  dtype: { type: 'string' },
  config: { type: 'string' },
} as const;

/** util.parseArgs options saying where the graphs run (commands that run them). */
export const RUNTIME_OPTIONS = {
  ep: { type: 'string' },
  threads: { type: 'string' },
  'no-cache': { type: 'boolean' },
  isolate: { type: 'boolean' },
} as const;

export const MODEL_OPTIONS = { ...SOURCE_OPTIONS, ...RUNTIME_OPTIONS } as const;

/** Help line of --model (info and convert take the model as their argument instead). */
export const MODEL_FLAG_HELP = `  -m, --model <dir|repo|file>  a diffusers folder, a Hugging Face repo id (downloaded into the HF cache), or a
                           single-file checkpoint (.safetensors, original Stable Diffusion / A1111 layout);
                           default: the embedded sdxs-micro (offline, 64×64 shapes: "a red circle on a blue background")`;

/** Help lines of {@link SOURCE_OPTIONS}. */
export const SOURCE_HELP = `      --revision <rev>     branch, tag or commit of a repo id (default main)
      --variant <name>     prefer *.<name>.safetensors weights, e.g. fp16
      --vae <folder>       vae (default) or vae_large (SDXS's full AutoencoderKL)
      --dtype <type>       float32 (default) or float16 compute for the U-Net and decoder
      --config <dir|repo>  for a single-file checkpoint: a diffusers folder or repo id of the same architecture
                           whose configs, scheduler and tokenizer to use (default: read from the weights' shapes
                           and the family's defaults; the tokenizer from the Hugging Face cache or hub)`;

/** Help lines of {@link MODEL_OPTIONS}. */
export const MODEL_HELP = `${SOURCE_HELP}
      --ep <provider>      cpu (default), webgpu or cuda; falls back to cpu with a warning
      --threads <n>        CPU threads for onnxruntime (default: one per core)
      --no-cache           do not read or write built graphs in the graph cache ($SDXS_CACHE/graphs)
      --isolate            run the graphs in a worker process, so Ctrl-C or a cancelled request stops a graph
                           run at once (in process a run always finishes); costs a copy of each tensor`;

/** util.parseArgs option of `--lora file.safetensors[:scale]`, repeatable. */
export const LORA_OPTIONS = { lora: { type: 'string', multiple: true } } as const;

/** Help line of {@link LORA_OPTIONS}. */
export const LORA_HELP = `      --lora <file[:scale]> apply a LoRA (diffusers/PEFT or kohya .safetensors) at scale (default 1);
                           repeat for several`;

/**
 * `--lora` values as the pipeline's LoRA files: `path` or `path:scale` (a trailing `:<number>` is the scale), each
 * file checked to exist now, before any model is loaded.
 *
 * @example
 * loraFlags('generate', ['style.safetensors:0.8'], io); // [{ source: LocalFolderSource(cwd), file: 'style.safetensors', scale: 0.8 }]
 */
export function loraFlags(command: string, values: readonly string[] | undefined, io: CliIO): LoraFile[] {
  return (values ?? []).map((value) => {
    const m = /^(.+):([^:/\\]*)$/.exec(value);
    const scaled = m !== null && m[2] !== '' && !existsSync(resolve(io.cwd, value));
    const path = scaled ? m![1]! : value;
    const scale = scaled ? numberFlag(command, 'lora', m![2]) : undefined;
    const full = resolve(io.cwd, path);
    let isFile = false;
    try {
      isFile = statSync(full).isFile();
    } catch {
      throw new UsageError(`--lora: no such file ${path}`, command);
    }
    if (!isFile) throw new UsageError(`--lora: ${path} is not a file`, command);
    return { source: new LocalFolderSource(dirname(full)), file: basename(full), ...(scale !== undefined ? { scale } : {}) };
  });
}

/** Parsed model flags. */
export interface ModelFlags {
  readonly model: string;
  readonly revision?: string | undefined;
  /** --config: configs, scheduler and tokenizer for a single-file checkpoint. */
  readonly config?: string | undefined;
  readonly variant?: string | undefined;
  readonly vae: 'vae' | 'vae_large';
  readonly dtype: 'float32' | 'float16';
  readonly ep: ProviderName;
  readonly threads?: number | undefined;
  readonly cache: boolean;
  readonly isolate: boolean;
}

interface ModelValues {
  model?: string | undefined;
  revision?: string | undefined;
  config?: string | undefined;
  variant?: string | undefined;
  vae?: string | undefined;
  dtype?: string | undefined;
  ep?: string | undefined;
  threads?: string | undefined;
  'no-cache'?: boolean | undefined;
  isolate?: boolean | undefined;
}

/** Check the model flags of `command`; `model` is the flag or the positional that named the model. */
export function modelFlags(command: string, values: ModelValues, model: string): ModelFlags {
  return {
    model,
    revision: values.revision,
    config: values.config,
    variant: values.variant,
    vae: choiceFlag(command, 'vae', values.vae, ['vae', 'vae_large'] as const) ?? 'vae',
    dtype: choiceFlag(command, 'dtype', values.dtype, ['float32', 'float16'] as const) ?? 'float32',
    ep: providerFlag(command, values.ep),
    threads: intFlag(command, 'threads', values.threads, 1, 1024),
    cache: values['no-cache'] !== true,
    isolate: values.isolate === true,
  };
}

/** The graph target for a provider: lowerings differ per execution provider (docs/DESIGN.md). */
export function targetFor(provider: ProviderName): Target {
  return provider;
}

/** The model's name in image metadata: the repo id as given, or the folder's (or checkpoint file's) name. */
export function modelName(model: string, root: string, fromHub: boolean): string {
  return fromHub ? model : basename(root).replace(/\.safetensors$/i, '');
}

/**
 * A folder path relative to the run's cwd when it exists there; else an embedded model's folder when `model` is
 * one's name (`sdxs-micro`); otherwise the text as given (maybe a repo id).
 */
function modelLocation(model: string, io: CliIO): { location: string; local: boolean } {
  const path = resolve(io.cwd, model);
  if (existsSync(path)) return { location: path, local: true };
  const embedded = embeddedModel(model);
  return embedded ? { location: embedded.path, local: true } : { location: model, local: false };
}

/**
 * The embedded model a command runs: the default one when no model is named, the named one when `model` is an
 * embedded model's name and no folder of that name exists here; undefined for folders and repo ids.
 */
export function embeddedFor(model: string | undefined, io: CliIO): EmbeddedModel | undefined {
  if (model === undefined) return embeddedModels().default;
  return existsSync(resolve(io.cwd, model)) ? undefined : embeddedModel(model);
}

export interface OpenedModel {
  readonly source: ModelSource;
  /** The model's folder on disk (a local or cached diffusers folder); undefined for a single-file checkpoint. */
  readonly root: string | undefined;
  readonly name: string;
  readonly fromHub: boolean;
}

/**
 * The model folder `flags.model` names: a local folder, or a repo id resolved through the Hugging Face cache
 * (downloading what is missing, with progress).
 */
export async function openModelSource(flags: ModelFlags, io: CliIO, progress: Reporter): Promise<OpenedModel> {
  const { location, local } = modelLocation(flags.model, io);
  if (!local) progress.transient(`resolving ${flags.model}…`);
  const hub = { onProgress: progress.download, env: io.env, ...(io.signal ? { signal: io.signal } : {}) };
  try {
    if (local && (await isSingleFile(location))) {
      const config = flags.config === undefined ? undefined : existsSync(resolve(io.cwd, flags.config)) ? resolve(io.cwd, flags.config) : flags.config;
      const source = await openSingleFile(location, { ...hub, config });
      return { source, root: undefined, name: modelName(flags.model, location, false), fromHub: false };
    }
    if (flags.config !== undefined) throw new UsageError(`--config applies to single-file checkpoints (.safetensors); ${flags.model} is not one`);
    const source = await resolveModel(location, {
      ...(flags.revision ? { revision: flags.revision } : {}),
      ...(flags.variant ? { variant: flags.variant } : {}),
      ...hub,
    });
    return { source, root: source.root, name: modelName(flags.model, source.root, !local), fromHub: !local };
  } finally {
    progress.done();
  }
}

/** The onnxruntime-node runtime for `--ep`, warning (not failing) when the provider is unavailable here. */
export function openRuntime(flags: ModelFlags, progress: Reporter): Promise<NodeRuntime> {
  return openNodeRuntime({
    provider: flags.ep,
    onWarning: (m) => progress.warn(m),
    ...(flags.threads !== undefined ? { intraOpThreads: flags.threads } : {}),
    ...(flags.isolate ? { isolate: true } : {}),
  });
}

export interface LoadedPipeline extends OpenedModel {
  readonly pipe: StableDiffusionPipeline;
  readonly runtime: NodeRuntime;
}

/** The pipeline's load options for the flags: target, dtype, VAE, variant, the disk graph cache and progress. */
function loadOptions(flags: ModelFlags, runtime: NodeRuntime, io: CliIO, progress: Reporter, extra: Partial<LoadOptions> = {}): LoadOptions {
  const cache = flags.cache ? new DiskGraphCache({ dir: defaultGraphCacheDir(io.env), onWarning: (m) => progress.warn(m) }) : undefined;
  return {
    target: targetFor(runtime.provider),
    dtype: flags.dtype,
    vae: flags.vae,
    ...(flags.variant ? { variant: flags.variant } : {}),
    ...(cache ? { cache } : {}),
    onProgress: progress.pipeline,
    ...extra,
  };
}

/** Resolve the model, open the runtime and load the pipeline (graphs are built on first use). */
export async function loadPipeline(flags: ModelFlags, io: CliIO, progress: Reporter, extra?: Partial<LoadOptions>): Promise<LoadedPipeline> {
  const opened = await openModelSource(flags, io, progress);
  const runtime = await openRuntime(flags, progress);
  const pipe = await StableDiffusionPipeline.load(opened.source, runtime, loadOptions(flags, runtime, io, progress, { name: opened.name, ...extra }));
  return { ...opened, pipe, runtime };
}

export interface LoadedControlNetPipeline extends OpenedModel {
  readonly pipe: ControlNetPipeline;
  readonly runtime: NodeRuntime;
}

/**
 * As {@link loadPipeline}, under a ControlNet: `controlnet` is a ControlNetModel folder or repo id (resolved as
 * --model is, without --revision, which names the model's revision), or undefined for the model's controlnet/.
 */
export async function loadControlNetPipeline(flags: ModelFlags, controlnet: string | undefined, io: CliIO, progress: Reporter, extra?: Partial<LoadOptions>): Promise<LoadedControlNetPipeline> {
  const opened = await openModelSource(flags, io, progress);
  const cn = controlnet === undefined ? undefined : await openModelSource({ ...flags, model: controlnet, revision: undefined }, io, progress);
  const runtime = await openRuntime(flags, progress);
  const pipe = await ControlNetPipeline.load(opened.source, cn?.source, runtime, loadOptions(flags, runtime, io, progress, { name: opened.name, ...extra }));
  return { ...opened, pipe, runtime };
}
