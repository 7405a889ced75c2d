/**
 * The folders `pnpm demo` serves, from its flags: `--golden`'s test folders, `--model` and `--controlnet` over
 * them, and, when no model is named, the embedded sketch model (@sdxs/model-micro's one-step sdxs-micro-1step with
 * its ControlNet; the text-to-image default when there is none) at /models/micro/ with
 * the steps and guidance its models.json gives — so the demo works offline with nothing to download.
 */
import { embeddedModels, type EmbeddedModel } from '@sdxs/runtime-node';
import { FOLDER, type ServedModel } from './model-manifest.js';

export interface DemoModelFlags {
  /** `--model DIR` (or SDXS_MODEL_DIR). */
  readonly model?: string | undefined;
  /** `--controlnet DIR` (or SDXS_CONTROLNET_DIR). */
  readonly controlnet?: string | undefined;
  /** `--golden`'s materialized folders. */
  readonly golden?: { readonly sdxs: string; readonly sketch: string } | undefined;
}

export interface DemoModels {
  readonly models: Record<string, string | ServedModel>;
  /** Lines for the console (the embedded model could not be found…). */
  readonly notes: readonly string[];
}

/**
 * @example
 * demoModels({}).models; // { micro: { path: '/…/model-micro/models/sdxs-micro', steps: 25, guidanceScale: 5 } }
 * demoModels({ model: '/data/sdxs-512' }).models; // { sdxs: '/data/sdxs-512' }
 */
export function demoModels(flags: DemoModelFlags, embedded: () => EmbeddedModel = defaultDemoModel): DemoModels {
  const models: Record<string, string | ServedModel> = { ...flags.golden };
  if (flags.model) models[FOLDER.model] = flags.model;
  if (flags.controlnet) models[FOLDER.controlnet] = flags.controlnet;
  const notes: string[] = [];
  if (models[FOLDER.model] === undefined) {
    try {
      const m = embedded();
      models[FOLDER.embedded] = { path: m.path, steps: m.steps, guidanceScale: m.guidanceScale, ...(m.prompt !== undefined ? { prompt: m.prompt } : {}), ...(m.controlnet !== undefined ? { controlnet: true } : {}) };
    } catch (e) {
      notes.push(`no embedded model: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return { models, notes };
}

/** The page draws live: the embedded one-step sketch model when there is one, else the text-to-image default. */
export function defaultDemoModel(): EmbeddedModel {
  const e = embeddedModels();
  return e.sketch ?? e.default;
}
