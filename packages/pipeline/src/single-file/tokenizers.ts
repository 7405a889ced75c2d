/**
 * The tokenizers of a single-file checkpoint, which the file does not carry: from the `config` folder when it has
 * them, else the family's hub repos (what diffusers fetches), else a file that says which repo was needed.
 */
import type { ModelSource } from '@sdxs/tensor';
import type { CheckpointFamily } from './identify.js';

/** The files of a tokenizer folder the loader reads. */
export const TOKENIZER_FILES = ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'] as const;

/** Where a family's tokenizer comes from when no `config` folder has one (diffusers' `_legacy_load_clip_tokenizer`). */
export interface TokenizerRepo {
  readonly repo: string;
  /** The repo's folder holding the files ('' for its root). */
  readonly folder: string;
  /** OpenCLIP pads with "!" (id 0); the LAION repos' files say the end token, so it is set here. */
  readonly padToken?: string;
}

const CLIP_L: TokenizerRepo = { repo: 'openai/clip-vit-large-patch14', folder: '' };

/** Per family, the tokenizers for `tokenizer` (and `tokenizer_2`). */
export const TOKENIZER_REPOS: Readonly<Record<CheckpointFamily, readonly TokenizerRepo[]>> = {
  sd1: [CLIP_L],
  sd2: [{ repo: 'stabilityai/stable-diffusion-2', folder: 'tokenizer', padToken: '!' }],
  sdxl: [CLIP_L, { repo: 'laion/CLIP-ViT-bigG-14-laion2B-39B-b160k', folder: '', padToken: '!' }],
};

/** Fetches the family's tokenizer folders (each repo's `folder`, as a source whose root holds the files), in `tokenizer`, `tokenizer_2` order. */
export type FetchTokenizers = (family: CheckpointFamily, repos: readonly TokenizerRepo[]) => Promise<readonly ModelSource[]>;

/** A tokenizer file of the virtual folder: another source's file (maybe with its pad token set), or a missing one. */
export type TokenizerEntry = { readonly from: ModelSource; readonly path: string; readonly padToken?: string | undefined } | { readonly missing: string };

/**
 * The tokenizer files for `dirs` (`tokenizer`, `tokenizer_2`): `config`'s when it has a vocab.json there, else those
 * `fetch` brings (called once, only if needed), else missing files whose error names the repo and `--config`.
 *
 * @example
 * const files = await planTokenizers('sd1', ['tokenizer'], config, fetch); // Map { 'tokenizer/vocab.json' => … }
 */
export async function planTokenizers(family: CheckpointFamily, dirs: readonly string[], config: ModelSource | undefined, fetch: FetchTokenizers | undefined): Promise<Map<string, TokenizerEntry>> {
  const out = new Map<string, TokenizerEntry>();
  let fetched: readonly ModelSource[] | undefined;
  for (const [i, dir] of dirs.entries()) {
    const repo = TOKENIZER_REPOS[family][i];
    if (config !== undefined && (await config.exists(`${dir}/vocab.json`))) {
      for (const name of TOKENIZER_FILES) if (await config.exists(`${dir}/${name}`)) out.set(`${dir}/${name}`, { from: config, path: `${dir}/${name}` });
      continue;
    }
    if (fetched === undefined && fetch) fetched = await fetch(family, TOKENIZER_REPOS[family]);
    const from = fetched?.[i];
    const missing = `a single-file checkpoint carries no tokenizer: this ${family} checkpoint needs ${repo ? `${repo.repo}${repo.folder ? `/${repo.folder}` : ''}` : 'a CLIP'} tokenizer for ${dir}/ (vocab.json, merges.txt), from the Hugging Face hub or cache, or from a diffusers folder of the same model given as config (--config <folder|repo id>)`;
    for (const name of TOKENIZER_FILES) {
      if (!from) out.set(`${dir}/${name}`, { missing });
      else if (await from.exists(name)) out.set(`${dir}/${name}`, { from, path: name, padToken: repo?.padToken });
    }
  }
  return out;
}

/**
 * A tokenizer config's text with its `pad_token` set (special_tokens_map.json, tokenizer_config.json); other files as
 * they are.
 *
 * @example
 * withPadToken('tokenizer_2/special_tokens_map.json', '{"pad_token": "<|endoftext|>"}', '!'); // '{ "pad_token": "!" … }'
 */
export function withPadToken(path: string, text: string, pad: string): string {
  if (!/(tokenizer_config|special_tokens_map)\.json$/.test(path)) return text;
  const o = JSON.parse(text) as Record<string, unknown>;
  return `${JSON.stringify({ ...o, pad_token: pad }, null, 2)}\n`;
}
