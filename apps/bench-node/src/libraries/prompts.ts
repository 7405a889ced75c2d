/**
 * Deterministic prompts for comparing tokenizers: ordinary captions and hostile text (accents in NFD, Greek
 * capital sigma, CJK, emoji and ZWJ sequences, Unicode spaces such as U+0085 and U+FEFF, contractions,
 * digits, punctuation runs, special tokens written in the prompt).
 */
import { SampleRandom } from '@sdxs/shapes';

const WORDS = ['a', 'photo', 'of', 'cat', 'dog', 'astronaut', 'riding', 'horse', 'on', 'mars', 'oil', 'painting', 'by', 'van', 'gogh', 'cyberpunk', 'city', 'at', 'night', 'highly', 'detailed', '8k', 'portrait', 'beautiful', 'woman', 'sunset', 'over', 'the', 'ocean', 'red', 'circle', 'blue', 'background'];
const PIECES = [
  'café', 'cafe\u0301', 'naïve', 'ΣΟΦΙΑ', 'ΟΔΥΣΣΕΥΣ', 'straße', 'İstanbul', '日本語', '中文字符', '한국어', 'русский', 'עברית', 'العربية', 'हिन्दी',
  '🐱', '🚀✨', '👩‍👩‍👧', '🇫🇷', 'e\u0301\u0302', '\u00a0', '\u0085', '\ufeff', '\u2028', '\u3000', '\t', '\n', '  ',
  "don't", "it's", "we're", "they'll", "I'd", "you've", "I'm", "'S", "DON'T", '12345', '3.14159', '1,000,000', '٣٤٥', '½', 'Ⅻ',
  '!!!', '???', '...', '---', '(brackets)', '[x]', '{y}', '<z>', '@#$%^&*', '<|startoftext|>', '<|endoftext|>', '<|endoftext', '!', '\u0000', '\u200b',
];

/** `count` prompts: a third plain captions, the rest mixed with the hostile pieces and random code points. */
export function comparisonPrompts(count: number, seed = 1): string[] {
  const g = new SampleRandom(seed, 0);
  const r = () => g.next();
  const pick = <T>(xs: readonly T[]): T => g.pick(xs);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = 3 + Math.floor(r() * 30);
    const parts: string[] = [];
    for (let j = 0; j < n; j++) {
      const x = r();
      if (i % 3 === 0 || x < 0.5) parts.push(r() < 0.2 ? pick(WORDS).toUpperCase() : pick(WORDS));
      else if (x < 0.9) parts.push(pick(PIECES));
      else {
        // A random code point from the BMP or the emoji planes, surrogates skipped.
        let cp = r() < 0.7 ? Math.floor(r() * 0xd800) : 0x1f300 + Math.floor(r() * 0x700);
        if (cp < 0x20) cp += 0x20;
        parts.push(String.fromCodePoint(cp));
      }
    }
    out.push(parts.join(r() < 0.8 ? ' ' : ''));
  }
  return out;
}
