/**
 * `/models.json` for the page: which served folder it loads without `?model=` (and that folder's ControlNet), and
 * the steps and guidance each folder was trained for, so a multi-step teacher is not run as a one-step model.
 * Served by the dev and preview servers next to the folders themselves (model-folder.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ListedModel, ModelManifest, RunSettings } from '../app/manifest.js';
import type { Next } from './model-folder.js';

/** A local folder served at `/models/<name>/`, with the settings it wants (default: one step, no guidance). */
export interface ServedModel {
  readonly path: string;
  readonly steps?: number;
  readonly guidanceScale?: number;
  /** An example prompt for the page's prompt box. */
  readonly prompt?: string;
  /** The folder holds its own sketch ControlNet in controlnet/ (the embedded one-step model does). */
  readonly controlnet?: boolean;
  /** What the page's model menu calls it (default: the folder name). */
  readonly label?: string;
}

/** Served folders by name: a path, or a path with its settings. */
export type ServedModels = Readonly<Record<string, string | ServedModel>>;

/**
 * Folder names with a meaning to the page: `--model`'s (and `--golden`'s) pipeline and its sketch ControlNet,
 * and the embedded default model served when no model is named (its ControlNet, if any, in its controlnet/).
 */
export const FOLDER = { model: 'sdxs', controlnet: 'sketch', embedded: 'micro' } as const;

/** The URL path a served folder has. */
export function folderUrl(name: string): string {
  return `/models/${encodeURIComponent(name)}/`;
}

/** name → directory, for modelFolderMiddleware. */
export function folderPaths(models: ServedModels): Record<string, string> {
  return Object.fromEntries(Object.entries(models).map(([name, m]) => [name, typeof m === 'string' ? m : m.path]));
}

/**
 * The manifest of a set of served folders: the default model is `sdxs` when served, else the embedded `micro`; the
 * sketch ControlNet is paired with `sdxs` only (it was trained on that pipeline); a folder with its own controlnet/
 * brings that one. `models` lists every folder but the sketch ControlNet, the default first, for the page's menu.
 *
 * @example
 * modelManifest({ micro: { path: dir, steps: 25, guidanceScale: 5 } });
 * // { model: '/models/micro/', settings: { '/models/micro/': { steps: 25, guidanceScale: 5 } } }
 */
export function modelManifest(models: ServedModels): ModelManifest {
  const has = (name: string): boolean => Object.hasOwn(models, name);
  const model = has(FOLDER.model) ? FOLDER.model : has(FOLDER.embedded) ? FOLDER.embedded : undefined;
  const settings: Record<string, RunSettings> = {};
  for (const [name, m] of Object.entries(models)) {
    if (typeof m !== 'string' && (m.steps !== undefined || m.guidanceScale !== undefined)) {
      settings[folderUrl(name)] = { steps: m.steps ?? 1, guidanceScale: m.guidanceScale ?? 0, ...(m.prompt !== undefined ? { prompt: m.prompt } : {}) };
    }
  }
  const controlnetOf = (name: string): string | undefined => {
    const m = models[name];
    if (name === FOLDER.model && has(FOLDER.controlnet)) return folderUrl(FOLDER.controlnet);
    return typeof m === 'object' && m.controlnet === true ? `${folderUrl(name)}controlnet/` : undefined;
  };
  const names = Object.keys(models).filter((name) => name !== FOLDER.controlnet);
  const listed = [...names.filter((n) => n === model), ...names.filter((n) => n !== model)].map((name): ListedModel => {
    const m = models[name];
    const controlnet = controlnetOf(name);
    return { url: folderUrl(name), label: (typeof m === 'object' ? m.label : undefined) ?? name, ...(controlnet !== undefined ? { controlnet } : {}) };
  });
  const controlnet = model !== undefined ? controlnetOf(model) : undefined;
  return {
    ...(model !== undefined ? { model: folderUrl(model) } : {}),
    ...(controlnet !== undefined ? { controlnet } : {}),
    settings,
    models: listed,
  };
}

/**
 * A connect middleware answering GET and HEAD `/models.json` with the manifest of `models`; other requests pass on.
 *
 * @example
 * server.middlewares.use(manifestMiddleware({ micro: { path: dir, steps: 25, guidanceScale: 5 } }));
 */
export function manifestMiddleware(models: ServedModels) {
  const body = `${JSON.stringify(modelManifest(models))}\n`;
  return (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/models.json' || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Content-Length', String(Buffer.byteLength(body)));
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
