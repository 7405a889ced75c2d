/**
 * What the page loads, from its query string: `?model=/models/sdxs/&controlnet=/models/sketch/&backend=wasm`.
 * `hf:owner/name` names a Hugging Face repo. An empty `controlnet=` turns the sketch pad off. Without `?model=` the
 * page loads the server's default (`/models.json`), else `/models/sdxs/`; `?steps=&guidance=` override the
 * settings the server lists for the model (a multi-step teacher's), else one step without guidance;
 * `?negative=&size=&seed=&prompt=` fill the other controls. The page writes its controls back with `writeSettings`,
 * so the address always reproduces what is on screen.
 */
import { huggingFaceModelUrl, type BackendPreference } from '@sdxs/runtime-web';
import { listedModelFor, settingsFor, type ModelManifest, type RunSettings } from './manifest.js';

export interface DemoSettings {
  readonly model: string;
  readonly controlnet: string | undefined;
  readonly backend: BackendPreference;
  readonly threads: number | undefined;
  readonly float16: boolean;
  readonly cache: boolean;
  /** Output size; default the model's. */
  readonly size: number | undefined;
  /** num_inference_steps; default the manifest's for the model, else one. */
  readonly steps: number | undefined;
  /** guidance_scale; default the manifest's for the model, else none. */
  readonly guidanceScale: number | undefined;
  /** The prompt box's starting text: `?prompt=`, else the manifest's example for the model. */
  readonly prompt: string | undefined;
  /** negative_prompt (`?negative=`); used only with guidance (guidance > 1). */
  readonly negativePrompt: string | undefined;
  /** `?seed=`; default 0. */
  readonly seed: number | undefined;
}

/** What a model runs with when nothing says otherwise: one step, no guidance (SDXS). */
export const ONE_STEP: RunSettings = { steps: 1, guidanceScale: 0 };

function modelUrl(value: string): string {
  return value.startsWith('hf:') ? huggingFaceModelUrl(value.slice(3)) : value;
}

function positiveInt(value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

function seedValue(value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function nonNegative(value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * Read the settings from a query string and the server's manifest (unknown values fall back to the defaults).
 *
 * @example
 * readSettings('?backend=wasm', { model: '/models/micro/', settings: { '/models/micro/': { steps: 25, guidanceScale: 5 } } });
 * // { model: '/models/micro/', controlnet: undefined, steps: 25, guidanceScale: 5, backend: 'wasm', … }
 */
export function readSettings(search: string, manifest?: ModelManifest): DemoSettings {
  const q = new URLSearchParams(search);
  const backend = q.get('backend');
  const controlnet = q.get('controlnet');
  const model = modelUrl(q.get('model') || (manifest?.model ?? '/models/sdxs/'));
  const listed = settingsFor(manifest, model);
  return {
    model,
    controlnet: controlnet === '' ? undefined : controlnet === null ? defaultControlnet(manifest, model) : modelUrl(controlnet),
    backend: backend === 'webgpu' || backend === 'wasm' ? backend : 'auto',
    threads: positiveInt(q.get('threads')),
    float16: q.get('f16') !== '0',
    cache: q.get('cache') !== '0',
    size: positiveInt(q.get('size')),
    steps: positiveInt(q.get('steps')) ?? listed?.steps,
    guidanceScale: nonNegative(q.get('guidance')) ?? listed?.guidanceScale,
    prompt: q.get('prompt') || listed?.prompt,
    negativePrompt: q.get('negative') || undefined,
    seed: seedValue(q.get('seed')),
  };
}

/**
 * The ControlNet a model gets without `?controlnet=`: the one the server lists for it (none for a listed model
 * without one); for a model the server does not list, the server's default one; without a manifest, the old default.
 */
export function defaultControlnet(manifest: ModelManifest | undefined, model: string): string | undefined {
  if (!manifest) return '/models/sketch/';
  const listed = listedModelFor(manifest, model);
  return listed ? listed.controlnet : manifest.controlnet;
}

/** What the page's controls hold: everything `writeSettings` puts in the address. */
export interface DemoControls {
  readonly model: string;
  readonly controlnet: string | undefined;
  readonly prompt: string;
  readonly negativePrompt: string;
  readonly seed: number;
  readonly steps: number;
  readonly guidanceScale: number;
  readonly size: number;
  /** The model's own size: `size` equal to it is left out of the address. */
  readonly defaultSize: number | undefined;
}

/**
 * The query string for the controls on top of `search` (its `backend`, `threads`, `f16`, `cache` kept): each value
 * is written only where it differs from what `readSettings` would take without it (the manifest's model, its
 * ControlNet, steps, guidance and example prompt; the model's size; seed 0; no negative prompt), so
 * `readSettings(writeSettings(search, c, m), m)` gives the controls back and a plain link stays plain.
 *
 * @example
 * writeSettings('?backend=wasm', { model: '/models/micro/', steps: 2, guidanceScale: 3, size: 64, defaultSize: 64, … }, manifest);
 * // '?backend=wasm&steps=2&guidance=3'
 */
export function writeSettings(search: string, c: DemoControls, manifest?: ModelManifest): string {
  const q = new URLSearchParams(search);
  const set = (key: string, value: string | undefined): void => (value === undefined ? q.delete(key) : q.set(key, value));
  const given = q.get('model');
  const defaultModel = manifest?.model ?? '/models/sdxs/';
  // Keep the address's own spelling (`hf:owner/name`) while it still names the model.
  set('model', given && modelUrl(given) === c.model ? given : c.model === defaultModel ? undefined : c.model);
  set('controlnet', c.controlnet === defaultControlnet(manifest, c.model) ? undefined : (c.controlnet ?? ''));
  const listed = settingsFor(manifest, c.model);
  set('steps', c.steps === (listed?.steps ?? ONE_STEP.steps) ? undefined : String(c.steps));
  set('guidance', c.guidanceScale === (listed?.guidanceScale ?? ONE_STEP.guidanceScale) ? undefined : String(c.guidanceScale));
  set('size', c.size === c.defaultSize ? undefined : String(c.size));
  set('prompt', c.prompt === '' || c.prompt === listed?.prompt ? undefined : c.prompt);
  set('negative', c.negativePrompt === '' ? undefined : c.negativePrompt);
  set('seed', c.seed === 0 ? undefined : String(c.seed));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/**
 * The sizes the page offers for a model: its own, half and twice it, and 3/4 and 3/2 of it where those are multiples
 * of 64 — each a multiple of the VAE's scale factor, 64 to 2048 (the 64×64 micro models get 64 and 128) —
 * plus `current` (a `?size=` of the address) when it is none of them.
 *
 * @example
 * sizeOptions(512, 8); // [256, 384, 512, 768, 1024]
 * sizeOptions(64, 8);  // [64, 128]
 */
export function sizeOptions(defaultSize: number, factor: number, current?: number): number[] {
  const candidates = [defaultSize / 2, (defaultSize * 3) / 4, defaultSize, (defaultSize * 3) / 2, defaultSize * 2];
  const fits = (n: number): boolean =>
    n === defaultSize || (Number.isInteger(n) && n >= 64 && n <= 2048 && n % factor === 0 && (n === defaultSize / 2 || n === defaultSize * 2 || n % 64 === 0));
  const sizes = new Set(candidates.filter(fits));
  if (current !== undefined && current > 0 && current % factor === 0) sizes.add(current);
  return [...sizes].sort((a, b) => a - b);
}
