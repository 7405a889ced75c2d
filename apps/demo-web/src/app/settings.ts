/**
 * What the page loads, from its query string: `?model=/models/sdxs/&controlnet=/models/sketch/&backend=wasm`.
 * `hf:owner/name` names a Hugging Face repo. An empty `controlnet=` turns the sketch pad off. Without `?model=` the
 * page loads the server's default (`/models.json`), else `/models/sdxs/`; `?steps=&guidance=` override the
 * settings the server lists for the model (a multi-step teacher's), else one step without guidance.
 */
import { huggingFaceModelUrl, type BackendPreference } from '@sdxs/runtime-web';
import { settingsFor, type ModelManifest, type RunSettings } from './manifest.js';

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
  // A server with a manifest says which ControlNet it has (none for the embedded model); without one, the old default.
  const defaultControlnet = manifest ? manifest.controlnet : '/models/sketch/';
  const model = modelUrl(q.get('model') || (manifest?.model ?? '/models/sdxs/'));
  const listed = settingsFor(manifest, model);
  return {
    model,
    controlnet: controlnet === '' ? undefined : controlnet === null ? defaultControlnet : modelUrl(controlnet),
    backend: backend === 'webgpu' || backend === 'wasm' ? backend : 'auto',
    threads: positiveInt(q.get('threads')),
    float16: q.get('f16') !== '0',
    cache: q.get('cache') !== '0',
    size: positiveInt(q.get('size')),
    steps: positiveInt(q.get('steps')) ?? listed?.steps,
    guidanceScale: nonNegative(q.get('guidance')) ?? listed?.guidanceScale,
    prompt: q.get('prompt') || listed?.prompt,
  };
}
