/** The models `sdxs serve` and `sdxs worker` load: each with its ControlNet when it has one, and its defaults. */
import { embeddedModels } from '@sdxs/runtime-node';
import type { ServedModel } from '@sdxs/server';
import type { LoraFile } from '@sdxs/pipeline';
import type { CliIO } from './io.js';
import { embeddedFor, loadControlNetPipeline, loadPipeline, modelFlags, openModelSource, type ModelFlags } from './model.js';
import type { Reporter } from './progress.js';

export interface ServedModelsOptions {
  /** The --model values (empty: the embedded models). */
  readonly models: readonly string[];
  /** A ControlNet for the first model (--controlnet). */
  readonly controlnet?: string | undefined;
  /** Steps and guidance for models that do not come with their own (embedded ones do). */
  readonly steps?: number | undefined;
  readonly guidance?: number | undefined;
  /** Runtime sessions per model: the batch sizes' graphs, the text encoder, the ControlNet graphs. */
  readonly maxSessions: number;
  /** LoRA adapters applied to every model (--lora). */
  readonly lora?: readonly LoraFile[];
  /** Report graph builds and steps of every request (--verbose); else only loading is reported. */
  readonly requestProgress?: boolean;
}

export interface LoadedServedModels {
  readonly models: ServedModel[];
  dispose(): Promise<void>;
}

/**
 * Load every model named (or, with none, the embedded default and the embedded one-step sketch model).
 *
 * @example
 * const { models } = await loadServedModels('serve', values, { models: ['IDKiro/sdxs-512-dreamshaper'], maxSessions: 8 }, io, progress);
 */
export async function loadServedModels(command: string, values: Parameters<typeof modelFlags>[1], options: ServedModelsOptions, io: CliIO, progress: Reporter): Promise<LoadedServedModels> {
  const names = options.models.length > 0 ? options.models : embeddedNames();
  const models: ServedModel[] = [];
  const disposers: (() => Promise<void>)[] = [];
  try {
    for (const [i, name] of names.entries()) {
      const embedded = embeddedFor(name, io);
      const flags: ModelFlags = modelFlags(command, values, name);
      const controlnet = i === 0 ? options.controlnet : undefined;
      const opened = await openModelSource(flags, io, progress);
      // A server's requests would print a line per step: only --verbose shows them.
      const extra = { maxSessions: options.maxSessions, ...(options.lora?.length ? { lora: options.lora } : {}), ...(options.requestProgress ? {} : { onProgress: () => {} }) };
      const steps = embedded?.steps ?? options.steps ?? 1;
      const guidanceScale = embedded?.guidanceScale ?? options.guidance ?? 0;
      const common = { steps, guidanceScale, dtype: flags.dtype, ...(embedded?.controlScale !== undefined ? { controlScale: embedded.controlScale } : {}) };
      if (controlnet !== undefined || (await opened.source.exists('controlnet/config.json'))) {
        const loaded = await loadControlNetPipeline(flags, controlnet, io, progress, extra);
        disposers.push(() => loaded.pipe.dispose());
        models.push({ name: loaded.name, pipe: loaded.pipe.base, control: loaded.pipe, executionProvider: loaded.runtime.provider, ...common });
      } else {
        const loaded = await loadPipeline(flags, io, progress, extra);
        disposers.push(() => loaded.pipe.dispose());
        models.push({ name: loaded.name, pipe: loaded.pipe, executionProvider: loaded.runtime.provider, ...common });
      }
    }
  } catch (e) {
    await Promise.allSettled(disposers.map((d) => d()));
    throw e;
  }
  const seen = new Set<string>();
  for (const m of models) {
    if (seen.has(m.name)) throw new Error(`two models are called ${JSON.stringify(m.name)}; serve folders with different names`);
    seen.add(m.name);
  }
  return { models, dispose: async () => void (await Promise.allSettled(disposers.map((d) => d()))) };
}

/** The embedded default model, then the embedded sketch model if it is another. */
function embeddedNames(): string[] {
  const { default: d, sketch } = embeddedModels();
  return sketch && sketch.name !== d.name ? [d.name, sketch.name] : [d.name];
}
