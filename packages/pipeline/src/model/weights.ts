/**
 * A component's weight files, opened once per pipeline: the safetensors readers, how their keys map to the
 * model's parameter names, and the files' identities (for graph keys).
 */
import { findWeightFiles, type BindOptions } from '@sdxs/graph';
import { SafetensorsFile, type ModelSource } from '@sdxs/tensor';
import { sha256Hex } from '../cache/sha256.js';
import type { WeightFileIdentity } from '../cache/graph-key.js';
import type { ComponentLora } from '../lora/load.js';

/** The open weight files of one component (`unet`, `vae`, `text_encoder`). */
export interface ComponentWeights {
  /** Folder inside the model source, e.g. `unet` or `vae_large`. */
  readonly dir: string;
  readonly files: readonly SafetensorsFile[];
  readonly identity: readonly WeightFileIdentity[];
  /**
   * Each file's absolute path, in `files` order, when the source is on local disk (`ModelSource.localPath`);
   * absent when any file has none. A runtime that reads files can then take the weights from them directly.
   */
  readonly localPaths?: readonly string[];
  /** Keys the model does not use, and how file keys map to parameter names (as bindCheckpoint takes them). */
  readonly bind: BindOptions;
  /** LoRA adapters merged into these weights as they are assembled (then `localPaths` is absent). */
  readonly lora?: ComponentLora;
}

/** Elements per tensor dtype, summed over every tensor of the files (diffusers' `sum(p.numel())`). */
export function countParameters(weights: ComponentWeights): { parameters: number; dtypes: string[] } {
  let parameters = 0;
  const dtypes = new Set<string>();
  for (const f of weights.files) {
    for (const e of f.entries.values()) {
      parameters += e.shape.reduce((a, b) => a * b, 1);
      dtypes.add(e.dtype);
    }
  }
  return { parameters, dtypes: [...dtypes].sort() };
}

async function headerSha256(read: (offset: number, length: number) => Promise<Uint8Array>): Promise<string> {
  // The header was validated by SafetensorsFile.open; hash its bytes exactly as stored (length prefix + JSON).
  const prefix = await read(0, 8);
  const length = Number(new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true));
  const header = await read(8, length);
  const all = new Uint8Array(8 + length);
  all.set(prefix);
  all.set(header, 8);
  return sha256Hex(all);
}

/**
 * Open the safetensors weights of `dir` (a single file or shards; `variant` preferred, like diffusers'
 * `variant=`), keeping them open for the pipeline's life. `bind` derives bind options from the file keys.
 *
 * @example
 * const unet = await openComponentWeights(source, 'unet', {}, () => ({}));
 */
export async function openComponentWeights(
  source: ModelSource,
  dir: string,
  options: { variant?: string },
  bind: (keys: Iterable<string>) => BindOptions,
): Promise<ComponentWeights> {
  const paths = await findWeightFiles(source, dir, options.variant ? { variant: options.variant } : {});
  const files: SafetensorsFile[] = [];
  const identity: WeightFileIdentity[] = [];
  try {
    for (const path of paths) {
      const bytes = await source.open(path);
      const file = await SafetensorsFile.open(bytes);
      files.push(file);
      identity.push({ path, size: file.size, headerSha256: await headerSha256((o, l) => bytes.read(o, l)) });
    }
  } catch (e) {
    await Promise.all(files.map((f) => f.close()));
    throw e;
  }
  const keys = files.flatMap((f) => [...f.entries.keys()]);
  const local = paths.map((p) => source.localPath?.(p));
  const localPaths = local.every((p): p is string => p !== undefined) ? local : undefined;
  return { dir, files, identity, bind: bind(keys), ...(localPaths ? { localPaths } : {}) };
}

/** Close every file of the components (errors ignored: this runs on dispose and on failed loads). */
export async function closeWeights(all: Iterable<ComponentWeights>): Promise<void> {
  await Promise.all([...all].flatMap((w) => w.files.map((f) => f.close().catch(() => undefined))));
}
