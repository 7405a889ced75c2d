/**
 * The models that ship inside the npm packages (@sdxs/model-micro): found by path, so a user without network makes
 * an image with no `--model`. models.json names each folder and the settings it was trained for (a multi-step
 * teacher wants its steps and guidance; a one-step model none).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface EmbeddedModel {
  /** The name `--model` accepts for it (`sdxs-micro`). */
  readonly name: string;
  /** Absolute path of the diffusers folder. */
  readonly path: string;
  /** num_inference_steps it is meant to run with. */
  readonly steps: number;
  /** guidance_scale it is meant to run with (≤ 1: none). */
  readonly guidanceScale: number;
  readonly description: string;
  /** A prompt it understands (for examples and the web demo's prompt box). */
  readonly prompt?: string;
  /** Its sketch ControlNet (a ControlNetModel folder), when it has one: `<path>/controlnet`. */
  readonly controlnet?: string;
  /** The ControlNet conditioning scale it was tuned for (models.json `control_scale`), when it says. */
  readonly controlScale?: number;
}

export interface EmbeddedModels {
  /** The model used when none is named. */
  readonly default: EmbeddedModel;
  /** The model `sdxs sketch` and the web demo's sketch pad use: one with its own controlnet/ (the one-step model). */
  readonly sketch?: EmbeddedModel;
  readonly models: readonly EmbeddedModel[];
  /** The shapes evaluator folder (config.json + model.safetensors). */
  readonly evaluator: string;
}

interface Manifest {
  default: string;
  sketch?: string;
  evaluator: string;
  models: Record<string, { path: string; steps: number; guidance_scale: number; description: string; prompt?: string; control_scale?: number }>;
}

let cached: EmbeddedModels | undefined;

/** The package folder of @sdxs/model-micro, or undefined when it is not installed. */
export function embeddedPackageDir(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve('@sdxs/model-micro/package.json'));
  } catch {
    return undefined;
  }
}

/**
 * The embedded models, read from @sdxs/model-micro's models.json. Throws one line naming the file when the
 * package is missing or its manifest is broken.
 *
 * @example
 * const { default: m } = embeddedModels(); // m.name 'sdxs-micro', m.path '/…/model-micro/models/sdxs-micro'
 */
export function embeddedModels(): EmbeddedModels {
  if (cached) return cached;
  const dir = embeddedPackageDir();
  if (!dir) throw new Error('the embedded default model (@sdxs/model-micro) is not installed; name a model with --model');
  const file = join(dir, 'models.json');
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  } catch (e) {
    throw new Error(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const models = Object.entries(m.models ?? {}).map(([name, e]): EmbeddedModel => {
    const path = join(dir, e.path);
    if (!existsSync(join(path, 'model_index.json'))) throw new Error(`${file}: model "${name}" points to ${path}, which has no model_index.json`);
    const controlnet = join(path, 'controlnet');
    return {
      name,
      path,
      steps: e.steps,
      guidanceScale: e.guidance_scale,
      description: e.description,
      ...(typeof e.prompt === 'string' ? { prompt: e.prompt } : {}),
      ...(existsSync(join(controlnet, 'config.json')) ? { controlnet } : {}),
      ...(typeof e.control_scale === 'number' ? { controlScale: e.control_scale } : {}),
    };
  });
  const def = models.find((x) => x.name === m.default);
  if (!def) throw new Error(`${file}: the default model "${m.default}" is not listed`);
  let sketch: EmbeddedModel | undefined;
  if (m.sketch !== undefined) {
    sketch = models.find((x) => x.name === m.sketch);
    if (!sketch) throw new Error(`${file}: the sketch model "${m.sketch}" is not listed`);
    if (!sketch.controlnet) throw new Error(`${file}: the sketch model "${m.sketch}" has no controlnet/ folder`);
  }
  cached = { default: def, ...(sketch ? { sketch } : {}), models, evaluator: join(dir, m.evaluator) };
  return cached;
}

/** The embedded model called `name`, if there is one (and the package is installed). */
export function embeddedModel(name: string): EmbeddedModel | undefined {
  if (!embeddedPackageDir()) return undefined;
  return embeddedModels().models.find((m) => m.name === name);
}
