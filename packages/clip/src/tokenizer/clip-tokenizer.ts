import { Tensor, type ModelSource } from '@sdxs/tensor';
import { BytePairEncoder } from './bpe.js';
import { forEachNormalizedChunk } from './clean.js';
import { TokenizerFileError } from './errors.js';
import { DEFAULT_FILE_NAMES, parseMerges, parseTokenizerConfig, parseVocab, type SpecialTokens, type TokenizerFileNames, type TokenizerFiles } from './files.js';
import { forEachWord, SpecialTokenSplitter } from './pre-tokenize.js';

export interface EncodeOptions {
  /** Cut the tokens between BOS and EOS so the whole sequence is at most `maxLength` (EOS is kept). Default false. */
  readonly truncation?: boolean;
  /** Default: the tokenizer's `maxLength` (77). */
  readonly maxLength?: number;
}

export interface CallOptions extends EncodeOptions {
  /** `max_length`: every row `maxLength` long (what Stable Diffusion pipelines use); `longest`: the longest row. */
  readonly padding?: 'max_length' | 'longest';
  /** Default true here: a `[batch, maxLength]` tensor has no room for longer rows. */
  readonly truncation?: boolean;
}

/** Token ids and attention mask, `[batch, length]` int64, as transformers returns them with `return_tensors`. */
export interface BatchEncoding {
  readonly inputIds: Tensor<'int64'>;
  /** 1 for real tokens (BOS and EOS included), 0 for padding. */
  readonly attentionMask: Tensor<'int64'>;
}

/**
 * The CLIP BPE tokenizer of Stable Diffusion model folders (`tokenizer/vocab.json` + `merges.txt`), matching
 * transformers' `CLIPTokenizer` (v5, `tokenizers`-backed) id for id: special tokens cut out of the raw text,
 * NFC + whitespace folding + lowercase, CLIP's word regex, byte-level BPE with `</w>`, then BOS … EOS,
 * truncation that keeps EOS, and padding with the folder's pad token (`<|endoftext|>` for SD 1.x, `!` = 0 for
 * SD 2.x / OpenCLIP). Environment-neutral: it reads file contents, not paths.
 *
 * @example
 * const tok = await CLIPTokenizer.fromSource(modelFolder); // reads tokenizer/ of a diffusers folder
 * tok.encode('a photo of a cat'); // [49406, 320, 1125, 539, 320, 2368, 49407]
 * const { inputIds } = tok.call(['a photo of a cat']); // int64 [1, 77]
 */
export class CLIPTokenizer {
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly padTokenId: number;
  readonly unkTokenId: number;
  /** `model_max_length` of tokenizer_config.json (77 for CLIP). */
  readonly maxLength: number;
  readonly #bpe: BytePairEncoder;
  readonly #specials: SpecialTokenSplitter;

  private constructor(files: TokenizerFiles, names: TokenizerFileNames) {
    const vocab = parseVocab(files.vocab, names.vocab);
    const merges = parseMerges(files.merges, names.merges);
    const { specialTokens, maxLength, tokenFiles } = parseTokenizerConfig(files, names);
    const idOf = (role: keyof SpecialTokens): number => {
      const token = specialTokens[role];
      const id = vocab.get(token);
      // Blame the config that named the token; a default token missing means the vocabulary is not CLIP's.
      if (id === undefined) throw new TokenizerFileError(tokenFiles[role] ?? names.vocab, `${role}_token ${JSON.stringify(token)} is not in ${names.vocab}`);
      return id;
    };
    this.bosTokenId = idOf('bos');
    this.eosTokenId = idOf('eos');
    this.padTokenId = idOf('pad');
    this.unkTokenId = idOf('unk');
    this.maxLength = maxLength;
    this.#bpe = new BytePairEncoder(vocab, merges, {
      endOfWordSuffix: '</w>',
      unkId: this.unkTokenId,
      vocabFile: names.vocab,
      mergesFile: names.merges,
    });
    this.#specials = new SpecialTokenSplitter(
      new Map([
        [specialTokens.bos, this.bosTokenId],
        [specialTokens.eos, this.eosTokenId],
        [specialTokens.pad, this.padTokenId],
        [specialTokens.unk, this.unkTokenId],
      ]),
    );
  }

  /**
   * Builds a tokenizer from file contents. `names` only label error messages.
   *
   * @example
   * CLIPTokenizer.fromFiles({ vocab: await readFile('vocab.json', 'utf8'), merges: await readFile('merges.txt', 'utf8') });
   */
  static fromFiles(files: TokenizerFiles, names: Partial<TokenizerFileNames> = {}): CLIPTokenizer {
    return new CLIPTokenizer(files, { ...DEFAULT_FILE_NAMES, ...names });
  }

  /**
   * Reads `folder` (default `tokenizer`, as in a diffusers model folder; `''` for the source's root) of a model
   * source: vocab.json and merges.txt are required, tokenizer_config.json and special_tokens_map.json optional.
   *
   * @example
   * const tok = await CLIPTokenizer.fromSource(source, 'tokenizer_2'); // SDXL's second tokenizer
   */
  static async fromSource(source: ModelSource, folder = 'tokenizer'): Promise<CLIPTokenizer> {
    const path = (name: string): string => (folder === '' ? name : `${folder.replace(/\/+$/, '')}/${name}`);
    const label = (name: string): string => `${source.id}/${path(name)}`;
    const read = async (name: string, required: boolean): Promise<string | undefined> => {
      let present: boolean;
      try {
        present = await source.exists(path(name));
        if (present) return await source.readText(path(name));
      } catch (cause) {
        throw new TokenizerFileError(label(name), `cannot read: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
      }
      if (required) throw new TokenizerFileError(label(name), 'not found');
      return undefined;
    };
    const [vocab, merges, tokenizerConfig, specialTokensMap] = await Promise.all([
      read(DEFAULT_FILE_NAMES.vocab, true),
      read(DEFAULT_FILE_NAMES.merges, true),
      read(DEFAULT_FILE_NAMES.tokenizerConfig, false),
      read(DEFAULT_FILE_NAMES.specialTokensMap, false),
    ]);
    const names: TokenizerFileNames = {
      vocab: label(DEFAULT_FILE_NAMES.vocab),
      merges: label(DEFAULT_FILE_NAMES.merges),
      tokenizerConfig: label(DEFAULT_FILE_NAMES.tokenizerConfig),
      specialTokensMap: label(DEFAULT_FILE_NAMES.specialTokensMap),
    };
    return new CLIPTokenizer({ vocab: vocab ?? '', merges: merges ?? '', tokenizerConfig, specialTokensMap }, names);
  }

  /**
   * The ids of `text` without BOS/EOS. With a `limit`, work stops as soon as that many ids exist and the result
   * is cut to it, so a megabytes-long prompt costs little more than its first words.
   *
   * @example
   * tok.tokenize("don't") // [847, 713]
   */
  tokenize(text: string, limit = Number.POSITIVE_INFINITY): number[] {
    const ids: number[] = [];
    if (limit <= 0) return ids;
    const more = (): boolean => ids.length < limit;
    const word = (w: string): boolean => {
      this.#bpe.encodeWord(w, ids, limit - ids.length);
      return more();
    };
    this.#specials.split(
      text,
      (plain) => {
        forEachNormalizedChunk(plain, (normalized) => {
          forEachWord(normalized, word);
          return more();
        });
        return more();
      },
      (id) => ids.push(id) < limit,
    );
    if (ids.length > limit) ids.length = limit;
    return ids;
  }

  /**
   * The ids of one prompt, `[BOS, ...tokens, EOS]`, unpadded (transformers' `tokenizer(text).input_ids`).
   *
   * @example
   * tok.encode('a photo of a cat') // [49406, 320, 1125, 539, 320, 2368, 49407]
   */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const maxLength = options.maxLength ?? this.maxLength;
    if (options.truncation === true && maxLength < 2) throw new RangeError(`maxLength ${maxLength} leaves no room for the start and end tokens`);
    const limit = options.truncation === true ? maxLength - 2 : Number.POSITIVE_INFINITY;
    return [this.bosTokenId, ...this.tokenize(text, limit), this.eosTokenId];
  }

  /**
   * Tokenizes a batch into `[batch, length]` int64 tensors, as transformers' `tokenizer(texts, padding=...,
   * max_length=..., truncation=True, return_tensors=...)` does. Defaults: `padding: 'max_length'`, `truncation: true`.
   *
   * @example
   * const { inputIds, attentionMask } = tok.call(['a cat', 'a dog']); // both int64 [2, 77]
   */
  call(texts: readonly string[], options: CallOptions = {}): BatchEncoding {
    const maxLength = options.maxLength ?? this.maxLength;
    const truncation = options.truncation ?? true;
    const rows = texts.map((t) => this.encode(t, { truncation, maxLength }));
    const width = options.padding === 'longest' ? rows.reduce((w, r) => Math.max(w, r.length), 0) : maxLength;
    const ids = new BigInt64Array(rows.length * width).fill(BigInt(this.padTokenId));
    const mask = new BigInt64Array(rows.length * width);
    rows.forEach((row, b) => {
      if (row.length > width) {
        throw new RangeError(`prompt ${b} has ${row.length} tokens, more than maxLength ${width}; tokenize with truncation: true`);
      }
      row.forEach((id, i) => {
        ids[b * width + i] = BigInt(id);
        mask[b * width + i] = 1n;
      });
    });
    return {
      inputIds: new Tensor('int64', [rows.length, width], ids),
      attentionMask: new Tensor('int64', [rows.length, width], mask),
    };
  }
}
