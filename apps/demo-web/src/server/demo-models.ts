/**
 * The folders `pnpm demo` serves, from its flags: `--golden`'s test folders, `--model` and `--controlnet` over
 * them, and, when no model is named, the embedded sketch model (@sdxs/model-micro's one-step sdxs-micro-1step with
 * its ControlNet; the text-to-image default when there is none) at /models/micro/ with
 * the steps and guidance its models.json gives — so the demo works offline with nothing to download — and the other
 * embedded models (the 25-step teacher sdxs-micro) under their own names, for the page's model menu.
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
 * demoModels({}).models; // { micro: { path: '/…/models/sdxs-micro-1step', steps: 1, …, controlnet: true }, 'sdxs-micro': { path: '/…/models/sdxs-micro', steps: 25, guidanceScale: 2.5, … } }
 * demoModels({ model: '/data/sdxs-512' }).models; // { sdxs: '/data/sdxs-512' }
 */
export function demoModels(flags: DemoModelFlags, embedded: () => EmbeddedModel = defaultDemoModel, others: () => readonly EmbeddedModel[] = () => embeddedModels().models): DemoModels {
  const models: Record<string, string | ServedModel> = { ...flags.golden };
  if (flags.model) models[FOLDER.model] = flags.model;
  if (flags.controlnet) models[FOLDER.controlnet] = flags.controlnet;
  const notes: string[] = [];
  if (models[FOLDER.model] === undefined) {
    try {
      const m = embedded();
      models[FOLDER.embedded] = served(m);
      for (const o of others()) if (o.path !== m.path && models[o.name] === undefined) models[o.name] = served(o);
    } catch (e) {
      notes.push(`no embedded model: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return { models, notes };
}

function served(m: EmbeddedModel): ServedModel {
  const run = `${m.steps} step${m.steps === 1 ? '' : 's'}${m.guidanceScale > 1 ? `, guidance ${m.guidanceScale}` : ''}${m.controlnet !== undefined ? ', sketch' : ''}`;
  return {
    path: m.path,
    steps: m.steps,
    guidanceScale: m.guidanceScale,
    ...(m.prompt !== undefined ? { prompt: m.prompt } : {}),
    ...(m.controlnet !== undefined ? { controlnet: true } : {}),
    label: `${m.name} (${run})`,
  };
}

/** The page draws live: the embedded one-step sketch model when there is one, else the text-to-image default. */
export function defaultDemoModel(): EmbeddedModel {
  const e = embeddedModels();
  return e.sketch ?? e.default;
}
