import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CLIPTokenizer } from '@sdxs/clip';
import type { Tensor } from '@sdxs/tensor';
import { caseFile } from '../links.js';
import type { GoldenCase, KindResult } from '../types.js';

/** Reads a tokenizer folder of a case (links followed) into a CLIPTokenizer. */
async function loadTokenizer(c: GoldenCase, folder: string): Promise<CLIPTokenizer> {
  const file = (name: string): string => caseFile(c.dir, join(folder, name));
  const optional = async (name: string): Promise<string | undefined> =>
    existsSync(join(c.dir, folder, name)) ? readFile(file(name), 'utf8') : undefined;
  return CLIPTokenizer.fromFiles(
    {
      vocab: await readFile(file('vocab.json'), 'utf8'),
      merges: await readFile(file('merges.txt'), 'utf8'),
      tokenizerConfig: await optional('tokenizer_config.json'),
      specialTokensMap: await optional('special_tokens_map.json'),
    },
    {
      vocab: file('vocab.json'),
      merges: file('merges.txt'),
      tokenizerConfig: join(c.dir, folder, 'tokenizer_config.json'),
      specialTokensMap: join(c.dir, folder, 'special_tokens_map.json'),
    },
  );
}

/**
 * `tokenizer`: transformers' CLIPTokenizer(prompts, padding="max_length", max_length, truncation) for each
 * tokenizer folder of the case; case.json's `tokenizers` maps each output name to its folder. Ids are exact.
 */
export async function runTokenizer(c: GoldenCase): Promise<KindResult> {
  const { prompts, tokenizers, max_length: maxLength, truncation, padding } = c.spec;
  if (!Array.isArray(prompts) || !prompts.every((p) => typeof p === 'string')) throw new Error(`${c.name}/case.json: "prompts" must be a list of strings`);
  if (typeof tokenizers !== 'object' || tokenizers === null) throw new Error(`${c.name}/case.json: "tokenizers" must map output names to folders`);
  if (padding !== undefined && padding !== 'max_length' && padding !== 'longest') throw new Error(`${c.name}/case.json: padding ${JSON.stringify(padding)} is not supported`);
  const outputs = new Map<string, Tensor>();
  for (const [output, folder] of Object.entries(tokenizers)) {
    if (typeof folder !== 'string') throw new Error(`${c.name}/case.json: tokenizers.${output} must be a folder name`);
    const tokenizer = await loadTokenizer(c, folder);
    const { inputIds } = tokenizer.call(prompts, {
      padding: padding ?? 'max_length',
      ...(typeof maxLength === 'number' ? { maxLength } : {}),
      truncation: truncation !== false,
    });
    outputs.set(output, inputIds);
  }
  return { outputs, tolerance: { exact: true } };
}
