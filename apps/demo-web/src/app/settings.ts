/**
 * What the page loads, from its query string: `?model=/models/sdxs/&controlnet=/models/sketch/&backend=wasm`.
 * `hf:owner/name` names a Hugging Face repo. An empty `controlnet=` turns the sketch pad off.
 */
import { huggingFaceModelUrl, type BackendPreference } from '@sdxs/runtime-web';

export interface DemoSettings {
  readonly model: string;
  readonly controlnet: string | undefined;
  readonly backend: BackendPreference;
  readonly threads: number | undefined;
  readonly float16: boolean;
  readonly cache: boolean;
  /** Output size; default the model's. */
  readonly size: number | undefined;
}

function modelUrl(value: string): string {
  return value.startsWith('hf:') ? huggingFaceModelUrl(value.slice(3)) : value;
}

function positiveInt(value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Read the settings from a query string (unknown values fall back to the defaults). */
export function readSettings(search: string): DemoSettings {
  const q = new URLSearchParams(search);
  const backend = q.get('backend');
  const controlnet = q.get('controlnet');
  return {
    model: modelUrl(q.get('model') || '/models/sdxs/'),
    controlnet: controlnet === '' ? undefined : modelUrl(controlnet ?? '/models/sketch/'),
    backend: backend === 'webgpu' || backend === 'wasm' ? backend : 'auto',
    threads: positiveInt(q.get('threads')),
    float16: q.get('f16') !== '0',
    cache: q.get('cache') !== '0',
    size: positiveInt(q.get('size')),
  };
}
