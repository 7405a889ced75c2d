// buildClipVocabulary: a CLIP BPE vocabulary sized to a closed set of words, read back by CLIPTokenizer.
import { describe, expect, it } from 'vitest';
import { buildClipVocabulary, CLIP_SPECIAL_TOKENS, CLIPTokenizer, type BuiltVocabulary } from '@sdxs/clip';

// @sdxs/clip does not depend on @sdxs/shapes, so the shapes grammar's words are inlined (as grammarWords() gave them),
// with words that overlap them (prefixes, suffixes, shared stems) mixed in before and after, in no sorted order:
// each word's merges can then split another word differently, which the builder must repair.
const WORDS = [
  're', 'ed', 'red', 'reds', 'green', 'greens', 'gree', 'een', 'three', 'thr', 'tree', 'sided', 'side', 'sid',
  'backdrop', 'back', 'drop', 'background', 'ground', 'round', 'box', 'block', 'bo', 'lock',
  'a', 'against', 'an', 'and', 'azure', 'black', 'blue', 'circle', 'crimson', 'dark', 'disk', 'dot', 'front',
  'golden', 'image', 'in', 'it', 'of', 'on', 'orange', 'over', 'picture', 'purple', 'shape', 'square', 'triangle',
  'violet', 'wedge', 'white', 'with', 'yellow', 'e', 'ee', 'eee',
];

const MAX_LENGTH = 24;
const built = buildClipVocabulary(WORDS, { maxLength: MAX_LENGTH });
const tok = CLIPTokenizer.fromFiles({ vocab: built.vocab, merges: built.merges, tokenizerConfig: built.tokenizerConfig });
const vocab = JSON.parse(built.vocab) as Record<string, number>;
const tokenOf = new Map(Object.entries(vocab).map(([t, id]) => [id, t]));

/** GPT-2's bytes_to_unicode, written out here independently of the package's table: character → byte. */
const CHAR_TO_BYTE: ReadonlyMap<string, number> = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const map = new Map<string, number>();
  let shifted = 0;
  for (let b = 0; b < 256; b++) map.set(String.fromCharCode(printable(b) ? b : 256 + shifted++), b);
  return map;
})();

/** The text an id sequence stands for, words separated by spaces (each `</w>` ends one). */
function decode(ids: readonly number[]): string {
  const bytes: number[] = [];
  for (const id of ids) {
    const token = tokenOf.get(id);
    if (token === undefined) throw new Error(`id ${id} is not in the vocabulary`);
    const word = token.endsWith('</w>') ? token.slice(0, -4) : token;
    for (const ch of word) {
      const b = CHAR_TO_BYTE.get(ch);
      if (b === undefined) throw new Error(`token ${JSON.stringify(token)} has a non-byte character`);
      bytes.push(b);
    }
    if (token.endsWith('</w>')) bytes.push(0x20);
  }
  return new TextDecoder().decode(Uint8Array.from(bytes));
}

describe('buildClipVocabulary', () => {
  it('writes a vocab.json of unique, contiguous ids and a merges.txt with a #version line', () => {
    const ids = Object.values(vocab);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort((a, b) => a - b)).toEqual(Array.from({ length: ids.length }, (_, i) => i));
    expect(built.size).toBe(ids.length);
    // The 512 byte symbols (alone and word-final) are all there, so any text has a spelling.
    for (const ch of CHAR_TO_BYTE.keys()) {
      expect(vocab[ch]).toBeTypeOf('number');
      expect(vocab[`${ch}</w>`]).toBeTypeOf('number');
    }
    const lines = built.merges.split('\n');
    expect(lines[0]).toMatch(/^#version: \d/);
    const merges = lines.slice(1).filter((l) => l !== '');
    expect(merges.length).toBeGreaterThan(0);
    expect(new Set(merges).size).toBe(merges.length);
    for (const line of merges) {
      const parts = line.split(' ');
      expect(parts).toHaveLength(2);
      const [left, right] = parts as [string, string];
      // Each merge joins two tokens into a third, all in the vocabulary; only the right part may end a word.
      expect(vocab[left]).toBeTypeOf('number');
      expect(vocab[right]).toBeTypeOf('number');
      expect(vocab[left + right]).toBeTypeOf('number');
      expect(left.endsWith('</w>')).toBe(false);
    }
  });

  it('makes every word exactly one token, with its own id', () => {
    const ids = new Map<string, number>();
    for (const w of WORDS) {
      const got = tok.tokenize(w);
      expect(got, w).toHaveLength(1);
      expect(got[0], w).toBe(vocab[`${w}</w>`]);
      ids.set(w, got[0]!);
    }
    expect(new Set(ids.values()).size).toBe(new Set(WORDS).size);
    // In running text too, each word is still one token.
    const sentence = 'a crimson three sided shape on a greens backdrop , red over background';
    const words = sentence.split(' ');
    const got = tok.tokenize(sentence);
    expect(got).toHaveLength(words.length);
    expect(decode(got)).toBe(words.map((w) => `${w} `).join(''));
  });

  it('tokenizes text outside the vocabulary byte by byte, without throwing', () => {
    for (const text of ['zebra xylophone!', 'redgreen', 'three-sided', 'Ünïcödé 🙂 café', 'greenish-blue 42 <b>', 'reed']) {
      const ids = tok.tokenize(text);
      expect(ids.length, text).toBeGreaterThan(0);
      for (const id of ids) expect(id).toBeLessThan(built.size - 2); // never a special token
      // The tokens spell the (lower-cased) text, whitespace aside.
      expect(decode(ids).replace(/\s+/g, ''), text).toBe(text.toLowerCase().replace(/\s+/g, ''));
    }
    // An unknown word longer than one byte is several tokens.
    expect(tok.tokenize('zebra').length).toBeGreaterThan(1);
  });

  it('puts <|startoftext|> and <|endoftext|> last, and encode() adds them', () => {
    const bos = vocab[CLIP_SPECIAL_TOKENS.bos]!;
    const eos = vocab[CLIP_SPECIAL_TOKENS.eos]!;
    expect(bos).toBe(built.size - 2);
    expect(eos).toBe(built.size - 1);
    expect(tok.bosTokenId).toBe(bos);
    expect(tok.eosTokenId).toBe(eos);
    expect(tok.padTokenId).toBe(vocab[CLIP_SPECIAL_TOKENS.pad]);
    expect(tok.encode('a red circle')).toEqual([bos, vocab['a</w>'], vocab['red</w>'], vocab['circle</w>'], eos]);
    expect(tok.encode('')).toEqual([bos, eos]);
  });

  it('sets model_max_length, which call() pads and truncates to', () => {
    const config = JSON.parse(built.tokenizerConfig) as Record<string, unknown>;
    expect(config['model_max_length']).toBe(MAX_LENGTH);
    expect(config['tokenizer_class']).toBe('CLIPTokenizer');
    expect(tok.maxLength).toBe(MAX_LENGTH);
    const long = Array.from({ length: 40 }, () => 'red').join(' ');
    const { inputIds, attentionMask } = tok.call(['a blue square', long]);
    expect(inputIds.shape).toEqual([2, MAX_LENGTH]);
    const row = (t: typeof inputIds, b: number) => Array.from(t.data.subarray(b * MAX_LENGTH, (b + 1) * MAX_LENGTH), Number);
    const eos = tok.eosTokenId;
    expect(row(inputIds, 0)).toEqual([tok.bosTokenId, vocab['a</w>'], vocab['blue</w>'], vocab['square</w>'], eos, ...Array<number>(MAX_LENGTH - 5).fill(tok.padTokenId)]);
    expect(row(attentionMask, 0)).toEqual([1, 1, 1, 1, 1, ...Array<number>(MAX_LENGTH - 5).fill(0)]);
    // Truncated with the end token kept.
    expect(row(inputIds, 1)).toEqual([tok.bosTokenId, ...Array<number>(MAX_LENGTH - 2).fill(vocab['red</w>']!), eos]);
    expect(row(attentionMask, 1)).toEqual(Array<number>(MAX_LENGTH).fill(1));
  });

  it('gives the same files for the same words, lower-cases them, and is small', () => {
    const again = buildClipVocabulary(WORDS, { maxLength: MAX_LENGTH });
    expect(again).toEqual(built);
    const upper: BuiltVocabulary = buildClipVocabulary(WORDS.map((w) => w.toUpperCase()), { maxLength: MAX_LENGTH });
    expect(upper.vocab).toBe(built.vocab);
    // 512 byte symbols + at most one merge per letter after the first of each word + a few repairs + 2 specials.
    const letters = new Set(WORDS).size === WORDS.length ? WORDS.reduce((n, w) => n + w.length - 1, 0) : Infinity;
    expect(built.size).toBeLessThanOrEqual(512 + letters + 2 + 64);
  });

  it('copes with many overlapping words (every word still one token)', () => {
    // 150 pseudo-random words over a 4-letter alphabet share prefixes, suffixes and inner pairs everywhere.
    let s = 12345;
    const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 16) / 65536;
    const words = new Set<string>();
    while (words.size < 150) words.add(Array.from({ length: 2 + Math.floor(next() * 6) }, () => 'abcd'[Math.floor(next() * 4)]).join(''));
    const files = buildClipVocabulary(words, { maxLength: 16 });
    const t = CLIPTokenizer.fromFiles(files);
    const v = JSON.parse(files.vocab) as Record<string, number>;
    const ids = [...words].map((w) => t.tokenize(w));
    ids.forEach((got, i) => expect(got).toEqual([v[`${[...words][i]!}</w>`]]));
  });
});
