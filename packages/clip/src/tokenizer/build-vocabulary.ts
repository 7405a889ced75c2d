import { BYTE_TO_CHAR } from './byte-level.js';
import { CLIPTokenizer } from './clip-tokenizer.js';
import { CLIP_SPECIAL_TOKENS } from './files.js';

export interface BuiltVocabulary {
  /** vocab.json's text. */
  readonly vocab: string;
  /** merges.txt's text. */
  readonly merges: string;
  /** tokenizer_config.json's text. */
  readonly tokenizerConfig: string;
  /** Vocabulary size (the text encoder's `vocab_size`). */
  readonly size: number;
}

/**
 * The files of a CLIP BPE tokenizer whose vocabulary is sized to a closed set of words (a grammar), in CLIP's own
 * format, so that CLIPTokenizer (and transformers') reads them unchanged: the 256 byte characters alone and with
 * `</w>`, then merges that build each word left to right, then `<|startoftext|>` and `<|endoftext|>`. Each word
 * becomes exactly one token (checked by tokenizing it); any other text still tokenizes, byte by byte.
 *
 * @example
 * const files = buildClipVocabulary(['a', 'red', 'circle'], { maxLength: 24 });
 * CLIPTokenizer.fromFiles(files).encode('a red circle'); // [bos, a, red, circle, eos]
 */
export function buildClipVocabulary(words: Iterable<string>, options: { maxLength: number }): BuiltVocabulary {
  const tokens: string[] = [];
  const seen = new Set<string>();
  const add = (t: string) => {
    if (!seen.has(t)) {
      seen.add(t);
      tokens.push(t);
    }
  };
  for (const c of BYTE_TO_CHAR) add(c);
  for (const c of BYTE_TO_CHAR) add(`${c}</w>`);
  const merges: [string, string][] = [];
  const mergeSet = new Set<string>();
  const addMerge = (a: string, b: string) => {
    const key = `${a} ${b}`;
    if (mergeSet.has(key)) return;
    mergeSet.add(key);
    merges.push([a, b]);
    add(a + b);
  };
  const list = [...new Set([...words].map((w) => w.toLowerCase()))];
  // CLIP's pre-tokenizer splits at anything but letters (and digits, one at a time), so only letter words can be one token.
  const bad = list.find((w) => !/^[a-z]+$/.test(w));
  if (bad !== undefined) throw new RangeError(`buildClipVocabulary: ${JSON.stringify(bad)} is not a lowercase a–z word (CLIP splits words at other characters)`);
  for (const w of list) {
    const symbols = [...w].map((c, i) => (i === w.length - 1 ? `${c}</w>` : c));
    let acc = symbols[0]!;
    for (const s of symbols.slice(1)) {
      addMerge(acc, s);
      acc += s;
    }
  }
  // Merges are applied best rank first across the whole word, so another word's merge may split this one
  // differently; join whatever pieces remain with further (lower-ranked) merges until every word is one token.
  for (let round = 0; round < 8; round++) {
    const tok = CLIPTokenizer.fromFiles(files(tokens, merges, options.maxLength));
    const split = list.map((w) => [w, tok.tokenize(w)] as const).filter(([, ids]) => ids.length > 1);
    if (split.length === 0) return { ...files(tokens, merges, options.maxLength), size: tokens.length + 2 };
    for (const [, ids] of split) {
      let acc = tokens[ids[0]!]!;
      for (const id of ids.slice(1)) {
        addMerge(acc, tokens[id]!);
        acc += tokens[id]!;
      }
    }
  }
  throw new Error('buildClipVocabulary: could not make every word a single token');
}

function files(tokens: readonly string[], merges: readonly [string, string][], maxLength: number): Omit<BuiltVocabulary, 'size'> {
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => (vocab[t] = i));
  vocab[CLIP_SPECIAL_TOKENS.bos] = tokens.length;
  vocab[CLIP_SPECIAL_TOKENS.eos] = tokens.length + 1;
  return {
    vocab: JSON.stringify(vocab),
    merges: '#version: 0.2\n' + merges.map(([a, b]) => `${a} ${b}`).join('\n') + '\n',
    tokenizerConfig: JSON.stringify(
      {
        tokenizer_class: 'CLIPTokenizer',
        model_max_length: maxLength,
        bos_token: CLIP_SPECIAL_TOKENS.bos,
        eos_token: CLIP_SPECIAL_TOKENS.eos,
        pad_token: CLIP_SPECIAL_TOKENS.pad,
        unk_token: CLIP_SPECIAL_TOKENS.unk,
      },
      null,
      2,
    ),
  };
}
