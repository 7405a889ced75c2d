/**
 * A single-file checkpoint on disk (`model.safetensors` in the original Stable Diffusion layout) as a model source:
 * @sdxs/pipeline's SingleFileSource over the file, with `config` (a diffusers folder or repo id, as diffusers'
 * `from_single_file(config=…)`) or else the family's tokenizers from the Hugging Face cache (offline-friendly:
 * a cached tokenizer needs no network).
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SingleFileSource, TOKENIZER_FILES, type TokenizerRepo } from '@sdxs/pipeline';
import type { ModelSource } from '@sdxs/tensor';
import { FileByteSource } from '@sdxs/tensor/node';
import { downloadSnapshot, resolveModel, type ResolveModelOptions } from '../hub/resolve-model.js';
import { isPipelineFile } from '../hub/select.js';
import { LocalFolderSource } from './local-folder.js';

export interface OpenSingleFileOptions extends Omit<ResolveModelOptions, 'files' | 'variant'> {
  /** A diffusers folder or repo id whose configs, scheduler and tokenizer are used (its weights are not fetched). */
  readonly config?: string | undefined;
}

/**
 * Whether `path` names a single-file checkpoint: an existing file ending in `.safetensors`.
 *
 * @example
 * await isSingleFile('dreamshaper_8.safetensors'); // true
 */
export async function isSingleFile(path: string): Promise<boolean> {
  if (!/\.safetensors$/i.test(path)) return false;
  return (await stat(path).catch(() => undefined))?.isFile() === true;
}

async function fetchTokenizers(file: string, repos: readonly TokenizerRepo[], options: OpenSingleFileOptions): Promise<ModelSource[]> {
  const names: readonly string[] = TOKENIZER_FILES;
  const out: ModelSource[] = [];
  for (const { repo, folder } of repos) {
    const prefix = folder ? `${folder}/` : '';
    try {
      const snap = await downloadSnapshot(repo, { ...options, revision: undefined, files: (p) => p.startsWith(prefix) && names.includes(p.slice(prefix.length)) });
      out.push(new LocalFolderSource(join(snap.dir, folder)));
    } catch (e) {
      throw new Error(
        `${file}: a single-file checkpoint carries no tokenizer, and ${repo}'s could not be had from the Hugging Face hub or cache (${e instanceof Error ? e.message : String(e)}); ` +
          'pass a diffusers folder or repo id of the same model as --config (library: the `config` option) to take its tokenizer/',
        { cause: e },
      );
    }
  }
  return out;
}

/**
 * Open a single-file checkpoint as a diffusers model source.
 *
 * @example
 * const source = await openSingleFile('dreamshaper_8.safetensors', { config: 'stable-diffusion-v1-5/stable-diffusion-v1-5' });
 * const pipe = await StableDiffusionPipeline.load(source, runtime);
 */
export async function openSingleFile(path: string, options: OpenSingleFileOptions = {}): Promise<SingleFileSource> {
  const full = resolve(path);
  const { config: configName, ...hub } = options;
  const config = configName === undefined ? undefined : await resolveModel(configName, { ...hub, files: (p) => isPipelineFile(p) && !/\.safetensors(\.index\.json)?$/.test(p) });
  return SingleFileSource.open(() => FileByteSource.open(full), { config, tokenizers: (_family, repos) => fetchTokenizers(full, repos, hub) });
}
