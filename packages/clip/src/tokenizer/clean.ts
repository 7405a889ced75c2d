/**
 * Text normalisation of transformers' CLIPTokenizer (v5, backed by `tokenizers`):
 * `normalizers.Sequence([NFC(), Replace(Regex(r"\s+"), " "), Lowercase()])`.
 *
 * Two details make this differ from the obvious JavaScript one-liner:
 * - `tokenizers` compiles regexes with Oniguruma, whose `\s` is Unicode White_Space (it has U+0085 but
 *   not U+FEFF); JavaScript's `\s` is the other way round. `\p{White_Space}` is the exact set.
 * - Rust lowercases char by char, so a word-final `Σ` becomes `σ`; `String.prototype.toLowerCase`
 *   applies Unicode's Final_Sigma rule and gives `ς`.
 */

const WHITESPACE_RUN = /\p{White_Space}+/gu;
const CAPITAL_SIGMA = '\u03a3';
const SMALL_SIGMA = '\u03c3';

/**
 * Normalises one piece of prompt text the way the reference tokenizer does before splitting it.
 *
 * @example
 * normalizeText('  A\tCafe\u0301 ') // ' a café '
 */
export function normalizeText(text: string): string {
  return lowercaseChars(text.normalize('NFC').replace(WHITESPACE_RUN, ' '));
}

/**
 * Lowercases code point by code point (Rust's `char::to_lowercase`), i.e. without Final_Sigma.
 * Final_Sigma is the only context-dependent mapping of locale-free lowercasing, so lowercasing the
 * pieces between capital sigmas and joining them with `σ` is exact — and keeps V8's fast path.
 */
export function lowercaseChars(text: string): string {
  if (!text.includes(CAPITAL_SIGMA)) return text.toLowerCase();
  return text
    .split(CAPITAL_SIGMA)
    .map((part) => part.toLowerCase())
    .join(SMALL_SIGMA);
}

// Big enough that ordinary prompts are one chunk, small enough that a truncated 10 MB prompt normalises ~1 of them.
const CHUNK_CHARS = 1 << 16;
const WHITESPACE = /\p{White_Space}/gu;

/**
 * Normalises `text` piece by piece and calls `visit` with each normalised piece until it returns `false`, so
 * that truncation need not normalise a huge prompt in full. Pieces end just before a whitespace character:
 * whitespace is a starter that composes with nothing (NFC cannot reach across it), lowercasing is per
 * character, and a whitespace run split in two still separates the same words. A text without whitespace
 * is one piece. The pieces are normalised for splitting into words, which drops whitespace anyway: see
 * {@link normalizeForWords}.
 *
 * @example
 * forEachNormalizedChunk(prompt, (piece) => { words.push(...piece.split(' ')); return true; });
 */
export function forEachNormalizedChunk(text: string, visit: (normalized: string) => boolean): void {
  if (text.length <= CHUNK_CHARS) {
    visit(normalizeForWords(text));
    return;
  }
  const whitespace = new RegExp(WHITESPACE);
  let start = 0;
  while (start < text.length) {
    whitespace.lastIndex = start + CHUNK_CHARS;
    const end = whitespace.exec(text)?.index ?? text.length;
    if (!visit(normalizeForWords(text.slice(start, end)))) return;
    start = end;
  }
}

/**
 * {@link normalizeText} less the whitespace folding, whose result only the word splitter sees: CLIP's word
 * pattern never matches whitespace, so every whitespace run is dropped whatever it was folded to, and NFC
 * and lowercasing treat whitespace as a barrier either way. Folding cost more than the rest of tokenization.
 */
function normalizeForWords(text: string): string {
  return lowercaseChars(text.normalize('NFC'));
}
