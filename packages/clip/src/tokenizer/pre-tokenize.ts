/**
 * Splitting prompt text into the words that BPE sees, as transformers' CLIPTokenizer (v5) does:
 * special tokens are cut out of the raw text first (the `tokenizers` AddedVocabulary, leftmost-longest),
 * then each remaining piece is normalised (clean.ts) and split by CLIP's regex with `behavior="removed",
 * invert=True`: the matches are the words, everything between them (only whitespace) is dropped.
 * The ByteLevel pre-tokenizer that follows in the reference splits again with GPT-2's regex, but every
 * CLIP word is already a single GPT-2 word, so only its byte-to-character mapping matters (bpe.ts).
 */

// CLIP's pattern (openai/CLIP simple_tokenizer.py), with Oniguruma's `\s` written as `\p{White_Space}`
// (see clean.ts). Every alternative consumes at least one character, so `exec` always advances.
// The two open-ended runs are capped at RUN code points: V8 backtracks through a long run of astral
// characters (a 10 MB emoji prompt) on a stack that overflows, so a capped run that may go on is
// continued with the run's own sticky pattern, which is what the uncapped greedy run would have taken.
const RUN = 256;
const CLIP_WORD = new RegExp(
  `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|(\\p{L}{1,${RUN}})|\\p{N}|([^\\p{White_Space}\\p{L}\\p{N}]{1,${RUN}})`,
  'gu',
);
const LETTER_RUN = new RegExp(`\\p{L}{1,${RUN}}`, 'uy');
const OTHER_RUN = new RegExp(`[^\\p{White_Space}\\p{L}\\p{N}]{1,${RUN}}`, 'uy');

/**
 * Calls `visit` with each CLIP word of already normalised text, in order, until it returns `false`.
 *
 * @example
 * forEachWord("don't stop!!", (w) => (words.push(w), true)) // don, 't, stop, !!
 */
export function forEachWord(text: string, visit: (word: string) => boolean): void {
  // Private copies keep `lastIndex` safe if a visitor tokenizes re-entrantly.
  const pattern = new RegExp(CLIP_WORD);
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    let end = pattern.lastIndex;
    // A run shorter than RUN code units cannot have reached the cap of RUN code points.
    const run = (m[1]?.length ?? 0) >= RUN ? LETTER_RUN : (m[2]?.length ?? 0) >= RUN ? OTHER_RUN : undefined;
    if (run !== undefined) {
      const more = new RegExp(run);
      more.lastIndex = end;
      while (more.exec(text) !== null) end = more.lastIndex;
      pattern.lastIndex = end;
    }
    if (!visit(text.slice(m.index, end))) return;
  }
}

/**
 * Finds special tokens (`<|startoftext|>`, `<|endoftext|>`, the pad token) in raw text, as the reference's
 * added-token pass does: matched before normalisation, leftmost match first and, among matches that
 * start together, the longest. Special tokens therefore survive in a prompt as single ids, and with
 * OpenCLIP's pad token `!` every `!` becomes id 0.
 */
export class SpecialTokenSplitter {
  readonly #ids: ReadonlyMap<string, number>;
  readonly #pattern: RegExp | undefined;

  constructor(tokens: ReadonlyMap<string, number>) {
    this.#ids = tokens;
    // JavaScript alternation takes the first alternative that matches; longest first makes it leftmost-longest.
    const sorted = [...tokens.keys()].filter((t) => t.length > 0).sort((a, b) => b.length - a.length);
    this.#pattern = sorted.length > 0 ? new RegExp(sorted.map(escapeRegExp).join('|'), 'gu') : undefined;
  }

  /**
   * Walks `text` in order: plain stretches go to `onText`, special tokens to `onSpecial` as ids.
   * Stops as soon as a callback returns `false`.
   */
  split(text: string, onText: (text: string) => boolean, onSpecial: (id: number) => boolean): void {
    if (this.#pattern === undefined) {
      onText(text);
      return;
    }
    const pattern = new RegExp(this.#pattern);
    let start = 0;
    for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
      if (m.index > start && !onText(text.slice(start, m.index))) return;
      const id = this.#ids.get(m[0]);
      if (id === undefined) throw new Error(`special token ${JSON.stringify(m[0])} has no id`); // unreachable: the pattern is built from the map
      if (!onSpecial(id)) return;
      start = m.index + m[0].length;
    }
    if (start < text.length) onText(text.slice(start));
  }
}

function escapeRegExp(s: string): string {
  // Only syntax characters: with the `u` flag any other escaped punctuation is a syntax error.
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
