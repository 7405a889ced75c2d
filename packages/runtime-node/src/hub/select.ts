import { HubError } from './errors.js';
import { isSafeRepoFilename } from './repo-id.js';

/** Options deciding which files of a repo are fetched. */
export interface FileSelectionOptions {
  /**
   * Which repo paths to fetch. Default: {@link isPipelineFile}, limited to the components `model_index.json`
   * names (when the repo has one). Whatever the predicate, safetensors weights then go through the variant choice.
   */
  files?: ((path: string) => boolean) | undefined;
  /** Prefer `<name>.<variant>.safetensors` weights (e.g. 'fp16') in each folder that has them, as diffusers' `variant=`. */
  variant?: string | undefined;
  /** Folder names of the pipeline's components (from `model_index.json`); only used by the default predicate. */
  components?: ReadonlySet<string> | undefined;
}

// Pickles can run code when loaded, and ONNX/TF/Flax files are not what the pipeline reads: never by default.
const FOREIGN_WEIGHTS = /\.(bin|ckpt|pt|pth|pkl|pickle|msgpack|h5|onnx|onnx_data|pb|gguf|safetensors)$/i;
const SHARD = String.raw`-\d{5}-of-\d{5}`;
const CONFIGS = new Set(['config.json', 'scheduler_config.json']);
// Components the one-step pipeline never runs; a caller wanting them passes its own `files` predicate.
const UNUSED_COMPONENTS = new Set(['safety_checker', 'feature_extractor']);

/** A safetensors weight file or its shard index (any variant). */
function isWeightName(name: string): boolean {
  return name.endsWith('.safetensors') || /\.safetensors\.index(\.[\w-]+)?\.json$/.test(name);
}

/**
 * The files a diffusers pipeline folder needs: `model_index.json`, each component's `config.json` /
 * `scheduler_config.json`, everything in `tokenizer*` folders except weights, and safetensors weights — never
 * `.bin`, `.ckpt`, `.onnx` and other formats. A repo holding a single model keeps `config.json` and weights at its root.
 *
 * @example
 * ['model_index.json', 'unet/config.json', 'unet/diffusion_pytorch_model.bin'].filter(isPipelineFile);
 * // ['model_index.json', 'unet/config.json']
 */
export function isPipelineFile(path: string): boolean {
  const parts = path.split('/');
  if (parts.length === 1) return path === 'model_index.json' || CONFIGS.has(path) || isWeightName(path);
  if (parts.length !== 2) return false;
  const [dir = '', name = ''] = parts;
  if (dir.startsWith('tokenizer')) return !FOREIGN_WEIGHTS.test(name);
  return CONFIGS.has(name) || isWeightName(name);
}

/** The variant a weight file name carries (`model.fp16.safetensors` → 'fp16'), '' for a plain one, undefined if not a weight name. */
function weightVariant(name: string): string | undefined {
  if (!isWeightName(name)) return undefined;
  const patterns = [
    new RegExp(String.raw`^[^.]+\.([\w]+)(?:${SHARD})?\.safetensors$`), // model.fp16.safetensors, model.fp16-00001-of-00002.safetensors
    new RegExp(String.raw`^[^.]+${SHARD}\.([\w]+)\.safetensors$`), // legacy model-00001-of-00002.fp16.safetensors
    /^[^.]+\.safetensors\.index\.([\w]+)\.json$/, // model.safetensors.index.fp16.json
    /^[^.]+\.([\w]+)\.safetensors\.index\.json$/, // model.fp16.safetensors.index.json
  ];
  for (const re of patterns) {
    const m = re.exec(name);
    if (m?.[1] !== undefined) return m[1];
  }
  return /^[^.]+\.safetensors(\.index\.json)?$/.test(name) ? '' : undefined;
}

function folderOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/**
 * Picks the repo files to fetch from a listing: the predicate, then per folder either the requested variant's
 * weights (when the folder has them) or the plain ones. A selected name that is not a safe relative path
 * (`..`, absolute, drive, UNC) is an error: it is never turned into a file.
 *
 * @example
 * selectFiles(['unet/diffusion_pytorch_model.safetensors', 'unet/diffusion_pytorch_model.fp16.safetensors'], { variant: 'fp16' });
 * // ['unet/diffusion_pytorch_model.fp16.safetensors']
 */
export function selectFiles(names: readonly string[], options: FileSelectionOptions = {}): string[] {
  const pipelineRepo = names.includes('model_index.json');
  const predicate =
    options.files ??
    ((p: string): boolean => {
      if (!isPipelineFile(p)) return false;
      const dir = folderOf(p).split('/')[0] ?? '';
      // A pipeline repo's root may also hold a single-file checkpoint of gigabytes: not part of the folder layout.
      if (dir === '') return !pipelineRepo || !isWeightName(p);
      if (UNUSED_COMPONENTS.has(dir)) return false;
      return options.components === undefined || options.components.has(dir);
    });
  const picked = names.filter((n) => predicate(n));
  const unsafe = picked.filter((n) => !isSafeRepoFilename(n));
  if (unsafe.length > 0) {
    throw new HubError('unsafe-path', `refusing repo file names that could leave the cache folder: ${unsafe.map((n) => JSON.stringify(n)).join(', ')}`);
  }
  const byFolder = new Map<string, string[]>();
  for (const n of picked) {
    if (weightVariant(n.slice(n.lastIndexOf('/') + 1)) === undefined) continue;
    const list = byFolder.get(folderOf(n)) ?? [];
    list.push(n);
    byFolder.set(folderOf(n), list);
  }
  const dropped = new Set<string>();
  for (const weights of byFolder.values()) {
    const variantOf = (n: string): string | undefined => weightVariant(n.slice(n.lastIndexOf('/') + 1));
    const wanted = options.variant !== undefined && weights.some((n) => variantOf(n) === options.variant) ? options.variant : '';
    for (const n of weights) if (variantOf(n) !== wanted) dropped.add(n);
  }
  return picked.filter((n) => !dropped.has(n));
}

/**
 * The component folders `model_index.json` names (keys whose value is a `[library, class]` pair), or undefined
 * when it is not valid JSON (then every folder is taken, and the pipeline reports the broken file itself).
 *
 * @example
 * componentsOf('{"_class_name": "X", "unet": ["diffusers", "UNet2DConditionModel"], "safety_checker": [null, null]}');
 * // Set { 'unet' }
 */
export function componentsOf(modelIndexJson: string): Set<string> | undefined {
  let data: unknown;
  try {
    data = JSON.parse(modelIndexJson);
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null) return undefined;
  const out = new Set<string>();
  for (const [key, value] of Object.entries(data)) {
    if (!key.startsWith('_') && Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) out.add(key);
  }
  return out;
}
