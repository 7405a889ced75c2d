import type { Merge } from './bpe.js';
import { TokenizerFileError } from './errors.js';

/** The text of a tokenizer folder's files, as a Stable Diffusion model's `tokenizer/` holds them. */
export interface TokenizerFiles {
  /** vocab.json: token → id. */
  readonly vocab: string;
  /** merges.txt: `#version` line, then one `left right` pair per line, best first. */
  readonly merges: string;
  /** tokenizer_config.json (optional): special tokens, `model_max_length`. */
  readonly tokenizerConfig?: string | undefined;
  /** special_tokens_map.json (optional): special tokens; wins over tokenizer_config.json, as in transformers. */
  readonly specialTokensMap?: string | undefined;
}

/** Names used for the files in error messages (paths, URLs). */
export interface TokenizerFileNames {
  readonly vocab: string;
  readonly merges: string;
  readonly tokenizerConfig: string;
  readonly specialTokensMap: string;
}

export const DEFAULT_FILE_NAMES: TokenizerFileNames = {
  vocab: 'vocab.json',
  merges: 'merges.txt',
  tokenizerConfig: 'tokenizer_config.json',
  specialTokensMap: 'special_tokens_map.json',
};

/** The special tokens of a CLIP tokenizer, as strings. */
export interface SpecialTokens {
  readonly bos: string;
  readonly eos: string;
  readonly pad: string;
  readonly unk: string;
}

/** transformers' CLIPTokenizer defaults, used for whatever the folder's JSON files leave out. */
export const CLIP_SPECIAL_TOKENS: SpecialTokens = {
  bos: '<|startoftext|>',
  eos: '<|endoftext|>',
  pad: '<|endoftext|>',
  unk: '<|endoftext|>',
};

/**
 * CLIP's text position count. `model_max_length` is 77 in every CLIP tokenizer folder; when a folder lacks it
 * (transformers then assumes "unbounded") the text encoder's 77 positions are the only sensible length.
 */
export const CLIP_MAX_LENGTH = 77;

/** Parses vocab.json into token → id. */
export function parseVocab(text: string, file: string): Map<string, number> {
  const json = parseJson(text, file);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new TokenizerFileError(file, 'expected a JSON object of token → id');
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(json)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new TokenizerFileError(file, `id of token ${JSON.stringify(token)} is ${JSON.stringify(id)}, not a non-negative integer`);
    }
    vocab.set(token, id);
  }
  if (vocab.size === 0) throw new TokenizerFileError(file, 'the vocabulary is empty');
  return vocab;
}

/** Parses merges.txt: an optional `#version` first line, then `left right` per line (blank lines skipped). */
export function parseMerges(text: string, file: string): Merge[] {
  const merges: Merge[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] ?? '';
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if ((i === 0 && line.startsWith('#version')) || line.trim() === '') continue;
    // indexOf/slice rather than split: this runs ~50,000 times while a model loads.
    const space = line.indexOf(' ');
    if (space <= 0 || space === line.length - 1 || line.indexOf(' ', space + 1) !== -1) {
      throw new TokenizerFileError(file, `line ${i + 1}: expected two tokens separated by one space, got ${JSON.stringify(line.slice(0, 80))}`);
    }
    merges.push({ left: line.slice(0, space), right: line.slice(space + 1), line: i + 1 });
  }
  return merges;
}

/** Special tokens and maximum length from the optional JSON files, falling back to CLIP's defaults. */
export function parseTokenizerConfig(
  files: Pick<TokenizerFiles, 'tokenizerConfig' | 'specialTokensMap'>,
  names: TokenizerFileNames,
): { specialTokens: SpecialTokens; maxLength: number; tokenFiles: Partial<Record<keyof SpecialTokens, string>> } {
  const config = files.tokenizerConfig === undefined ? {} : parseObject(files.tokenizerConfig, names.tokenizerConfig);
  const map = files.specialTokensMap === undefined ? {} : parseObject(files.specialTokensMap, names.specialTokensMap);
  // Which file each token came from, so that a bad one is reported there.
  const tokenFiles: Partial<Record<keyof SpecialTokens, string>> = {};
  const token = (role: keyof SpecialTokens): string => {
    const key = `${role}_token`;
    const fromMap = tokenContent(map[key], names.specialTokensMap, key);
    if (fromMap !== undefined) {
      tokenFiles[role] = names.specialTokensMap;
      return fromMap;
    }
    const fromConfig = tokenContent(config[key], names.tokenizerConfig, key);
    if (fromConfig !== undefined) tokenFiles[role] = names.tokenizerConfig;
    return fromConfig ?? CLIP_SPECIAL_TOKENS[role];
  };
  const specialTokens: SpecialTokens = { bos: token('bos'), eos: token('eos'), pad: token('pad'), unk: token('unk') };
  const declared = config.model_max_length;
  let maxLength = CLIP_MAX_LENGTH;
  // transformers writes 1e30 ("no limit") for tokenizers saved without a length; only a real length counts.
  if (typeof declared === 'number' && Number.isInteger(declared) && declared <= 1_000_000) {
    if (declared < 2) throw new TokenizerFileError(names.tokenizerConfig, `model_max_length ${declared} leaves no room for the start and end tokens`);
    maxLength = declared;
  }
  return { specialTokens, maxLength, tokenFiles };
}

// A special token is written either as its string or as a serialized AddedToken (`{ "content": ... }`).
function tokenContent(value: unknown, file: string, key: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && 'content' in value && typeof value.content === 'string') return value.content;
  throw new TokenizerFileError(file, `"${key}" must be a string or an object with a string "content"`);
}

function parseObject(text: string, file: string): Record<string, unknown> {
  const json = parseJson(text, file);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new TokenizerFileError(file, 'expected a JSON object');
  return json as Record<string, unknown>;
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new TokenizerFileError(file, `invalid JSON: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
