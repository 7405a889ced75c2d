/**
 * `/models.json`: what the demo's server serves and how each folder wants to be run, so the page needs no
 * `?model=` for the default and runs a multi-step teacher with its steps and guidance. A static host serves no
 * manifest; the page then keeps its built-in defaults (one step, no guidance).
 */

/** The settings a model was trained for (@sdxs/model-micro's models.json `steps` and `guidance_scale`). */
export interface RunSettings {
  readonly steps: number;
  readonly guidanceScale: number;
  /** A prompt the model understands, for the page's prompt box (the micro model knows only shapes and colours). */
  readonly prompt?: string;
}

/** A model the server offers, for the page's model menu. */
export interface ListedModel {
  /** Folder URL (`/models/micro/`). */
  readonly url: string;
  /** What the menu shows. */
  readonly label: string;
  /** Its ControlNet's folder URL, when it has one (the sketch pad is shown with it). */
  readonly controlnet?: string;
}

export interface ModelManifest {
  /** URL of the model the page loads without `?model=`. */
  readonly model?: string;
  /** URL of that model's ControlNet, when the server has one. */
  readonly controlnet?: string;
  /** Run settings by model folder URL (`/models/micro/`); folders not listed run one step without guidance. */
  readonly settings: Readonly<Record<string, RunSettings>>;
  /** Every model the server serves, the default first (absent from older servers). */
  readonly models?: readonly ListedModel[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function runSettings(v: unknown): RunSettings | undefined {
  if (!isRecord(v)) return undefined;
  const { steps, guidanceScale, prompt } = v;
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 1) return undefined;
  if (typeof guidanceScale !== 'number' || !Number.isFinite(guidanceScale) || guidanceScale < 0) return undefined;
  return { steps, guidanceScale, ...(typeof prompt === 'string' && prompt !== '' ? { prompt } : {}) };
}

function listedModel(v: unknown): ListedModel | undefined {
  if (!isRecord(v) || typeof v.url !== 'string' || v.url === '') return undefined;
  const label = typeof v.label === 'string' && v.label !== '' ? v.label : v.url;
  return { url: v.url, label, ...(typeof v.controlnet === 'string' && v.controlnet !== '' ? { controlnet: v.controlnet } : {}) };
}

/**
 * A manifest from parsed JSON; undefined when it is not one. Malformed entries are dropped, not trusted.
 *
 * @example
 * parseManifest({ model: '/models/micro/', settings: { '/models/micro/': { steps: 25, guidanceScale: 5 } } });
 */
export function parseManifest(json: unknown): ModelManifest | undefined {
  if (!isRecord(json)) return undefined;
  const settings: Record<string, RunSettings> = {};
  if (isRecord(json.settings)) {
    for (const [url, v] of Object.entries(json.settings)) {
      const s = runSettings(v);
      if (s) settings[url] = s;
    }
  }
  const models = Array.isArray(json.models) ? json.models.map(listedModel).filter((m) => m !== undefined) : undefined;
  return {
    ...(typeof json.model === 'string' && json.model !== '' ? { model: json.model } : {}),
    ...(typeof json.controlnet === 'string' && json.controlnet !== '' ? { controlnet: json.controlnet } : {}),
    settings,
    ...(models ? { models } : {}),
  };
}

/** Folder URLs compare equal with or without their trailing slash. */
export function sameFolder(a: string, b: string): boolean {
  const strip = (u: string) => (u.endsWith('/') ? u.slice(0, -1) : u);
  return strip(a) === strip(b);
}

/** The manifest's entry for a model URL, if it lists one. */
export function listedModelFor(manifest: ModelManifest | undefined, model: string): ListedModel | undefined {
  return manifest?.models?.find((m) => sameFolder(m.url, model));
}

/** The run settings listed for a model URL (a missing trailing slash does not matter). */
export function settingsFor(manifest: ModelManifest | undefined, model: string): RunSettings | undefined {
  if (!manifest) return undefined;
  return manifest.settings[model] ?? manifest.settings[model.endsWith('/') ? model.slice(0, -1) : `${model}/`];
}

/** Fetch the page's manifest; undefined where there is none (a static host) or it cannot be read. */
export async function fetchManifest(url: string): Promise<ModelManifest | undefined> {
  try {
    const res = await fetch(url, { headers: { Accept: 'application/json' } });
    return res.ok ? parseManifest(await res.json()) : undefined;
  } catch {
    return undefined;
  }
}
