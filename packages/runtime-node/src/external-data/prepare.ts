import { realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, sep } from 'node:path';
import { rewriteExternalLocations } from './locations.js';

/** One external-data file of a model: its `location` string in the model, and its bytes or its path on disk. */
export interface ExternalDataEntry {
  readonly path: string;
  readonly data: string | Uint8Array;
}

/** What onnxruntime-node is given for a model with external data. */
export interface PreparedExternalData {
  /** The model, with on-disk locations rewritten relative to `folder` (the input itself when unchanged). */
  model: Uint8Array;
  /** Entries whose bytes are in memory, for onnxruntime's `externalData` session option. */
  inMemory: { path: string; data: Uint8Array }[];
  /** For `session.model_external_initializers_file_folder_path`; set when some entries are files. */
  folder?: string;
}

/**
 * Make a model's external data loadable by onnxruntime-node from bytes. Its Node binding takes external data
 * only as in-memory buffers, and a model loaded from bytes has no folder to resolve file locations against;
 * onnxruntime does accept a folder given in the session config, but refuses any location (after following
 * symlinks) that leaves it — which a Hugging Face cache snapshot always does, its files being symlinks into
 * `blobs/`. So each file is resolved to its real path, the folder is the deepest one holding all of them, and
 * the model's locations are rewritten to the real paths relative to that folder. The weights are then read (or
 * mapped) by onnxruntime straight from the user's files, never copied through the JS heap.
 *
 * Every location the model references must be named by an entry: with a folder set, onnxruntime would
 * otherwise read whatever file the location names under it. Entries are all files or all bytes: onnxruntime reads
 * no file at all once it has an in-memory table.
 *
 * @example
 * const prepared = await prepareExternalData(model, [{ path: 'unet.safetensors', data: '/models/sdxs/unet/diffusion_pytorch_model.safetensors' }]);
 */
export async function prepareExternalData(model: Uint8Array, entries: readonly ExternalDataEntry[]): Promise<PreparedExternalData> {
  const inMemory: { path: string; data: Uint8Array }[] = [];
  const files = new Map<string, string>(); // location -> real path
  const seen = new Set<string>();
  for (const e of entries) {
    if (typeof e.path !== 'string' || e.path === '') throw new TypeError('externalData: every entry needs a non-empty path (its location in the model)');
    if (seen.has(e.path)) throw new TypeError(`externalData: location ${JSON.stringify(e.path)} is given twice`);
    seen.add(e.path);
    if (e.data instanceof Uint8Array) inMemory.push({ path: e.path, data: e.data });
    else if (typeof e.data === 'string') files.set(e.path, await realFile(e.path, e.data));
    else throw new TypeError(`externalData ${JSON.stringify(e.path)}: data must be a file path or a Uint8Array`);
  }
  if (files.size === 0) return { model, inMemory };
  if (inMemory.length > 0) {
    // Once given any in-memory entry, onnxruntime looks every location up in that table and reads no file.
    throw new Error(
      `externalData: onnxruntime-node cannot mix in-memory data (${inMemory.map((e) => JSON.stringify(e.path)).join(', ')}) with files ` +
        `(${[...files.keys()].map((l) => JSON.stringify(l)).join(', ')}); give all as files, or all as bytes`,
    );
  }

  const folder = commonFolder([...files.values()].map((f) => dirname(f)));
  const renamed = new Map([...files].map(([location, real]) => [location, relative(folder, real).split(sep).join('/')]));
  const rewritten = rewriteExternalLocations(model, (location) => {
    const name = renamed.get(location);
    if (name === undefined) throw new Error(`the model's external data location ${JSON.stringify(location)} is not given in externalData`);
    return name;
  });
  return { model: rewritten, inMemory: [], folder };
}

async function realFile(location: string, path: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (e) {
    throw new Error(`externalData ${JSON.stringify(location)}: cannot resolve ${path} (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!(await stat(real)).isFile()) throw new Error(`externalData ${JSON.stringify(location)}: ${path} is not a regular file`);
  return real;
}

/** The deepest folder containing every one of `dirs` (real, absolute paths). */
function commonFolder(dirs: readonly string[]): string {
  let common = dirs[0]!;
  for (const d of dirs) {
    while (!contains(common, d)) {
      const up = dirname(common);
      // Only reached on Windows, for files on different drives: no folder holds both.
      if (up === common) throw new Error(`externalData: the files are on different drives (${dirs[0]}, ${d}); onnxruntime needs them under one folder`);
      common = up;
    }
  }
  return common;
}

function contains(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
