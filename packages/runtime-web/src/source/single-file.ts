/**
 * A single-file checkpoint by URL (`…/dreamshaper_8.safetensors`, original Stable Diffusion / A1111 layout) as a
 * model source in the browser: @sdxs/pipeline's SingleFileSource over the file's URL, with `config` (a diffusers
 * folder URL) or else the family's tokenizers from the Hugging Face hub's resolve URLs, as diffusers fetches them.
 */
import { SingleFileSource } from '@sdxs/pipeline';
import { huggingFaceModelUrl, UrlModelSource, type UrlModelSourceOptions } from './url-source.js';

/**
 * Whether a model URL names a single-file checkpoint (ends in `.safetensors`, before any query).
 *
 * @example
 * isSingleFileUrl('https://civitai.test/dreamshaper_8.safetensors?download=1'); // true
 */
export function isSingleFileUrl(url: string): boolean {
  return /\.safetensors$/i.test(url.split(/[?#]/)[0]!);
}

export interface SingleFileUrlOptions extends UrlModelSourceOptions {
  /** The URL of a diffusers folder of the same architecture: its configs, scheduler and tokenizer. */
  readonly config?: string | undefined;
  /** The Hugging Face endpoint for the tokenizers (default https://huggingface.co). */
  readonly endpoint?: string | undefined;
}

/**
 * Open the checkpoint at `url` as a diffusers model source.
 *
 * @example
 * const source = await openSingleFileUrl('/models/dreamshaper_8.safetensors', { config: '/models/sd15/' });
 * const pipe = await StableDiffusionPipeline.load(source, runtime, { target: runtime.backend });
 */
export async function openSingleFileUrl(url: string, options: SingleFileUrlOptions = {}): Promise<SingleFileSource> {
  const { config, endpoint, ...sourceOptions } = options;
  const cut = url.lastIndexOf('/') + 1;
  const folder = new UrlModelSource(url.slice(0, cut) || './', sourceOptions);
  const file = decodeURIComponent(url.slice(cut));
  return SingleFileSource.open(() => folder.open(file), {
    config: config === undefined ? undefined : new UrlModelSource(config, sourceOptions),
    tokenizers: async (_family, repos) => repos.map((r) => new UrlModelSource(`${huggingFaceModelUrl(r.repo, endpoint ? { endpoint } : {})}${r.folder ? `${r.folder}/` : ''}`, sourceOptions)),
  });
}
