import type { SampleRandom } from './random.js';
import { COLOR_WORDS, COLORS, SHAPE_WORDS, SHAPES, type ColorName, type ShapeAttributes, type ShapeName } from './vocabulary.js';

const BACKGROUND_WORDS = ['background', 'backdrop'] as const;

/** Templates of the grammar: `{o}` object colour, `{s}` shape word, `{b}` background colour, `{bg}` background word. */
const TEMPLATES = [
  'a {o} {s} on a {b} {bg}',
  'a {o} {s} on {b}',
  '{o} {s}, {b} {bg}',
  'a {b} {bg} with a {o} {s}',
  'a {s} in {o} on a {b} {bg}',
  'an image of a {o} {s} against a {b} {bg}',
  'on a {b} {bg}, a {o} {s}',
  'a {o} {s} over {b}',
  'a picture of a {s}, {o}, on a {b} {bg}',
  'a {b} {bg} and a {o} {s} in front of it',
] as const;

/** "a" or "an" before a word, as English writes it. */
function article(next: string): string {
  return /^[aeiou]/.test(next) ? 'an' : 'a';
}

function fixArticles(text: string): string {
  return text.replace(/\ba (\S+)/g, (_, w: string) => `${article(w)} ${w}`);
}

/** A caption of `a` drawn from the grammar (synonyms, word orders) with `rng`. */
export function caption(a: ShapeAttributes, rng: SampleRandom): string {
  const t = rng.pick(TEMPLATES);
  const text = t
    .replace('{o}', rng.pick(COLOR_WORDS[a.color]))
    .replace('{s}', rng.pick(SHAPE_WORDS[a.shape]))
    .replace('{b}', rng.pick(COLOR_WORDS[a.background]))
    .replace('{bg}', rng.pick(BACKGROUND_WORDS));
  return fixArticles(text);
}

/** The canonical caption of `a`: "a red circle on a blue background". */
export function canonicalCaption(a: ShapeAttributes): string {
  return fixArticles(`a ${a.color} ${a.shape} on a ${a.background} background`);
}

/** Every word the grammar can produce (for the tokenizer's vocabulary). */
export function grammarWords(): string[] {
  const words = new Set<string>(['a', 'an']);
  const add = (s: string) => s.split(/[^a-z]+/).filter(Boolean).forEach((w) => words.add(w));
  TEMPLATES.forEach((t) => add(t.replace(/\{[a-z]+\}/g, ' ')));
  Object.values(SHAPE_WORDS).flat().forEach(add);
  Object.values(COLOR_WORDS).flat().forEach(add);
  BACKGROUND_WORDS.forEach(add);
  return [...words].sort();
}

const COLOR_BY_WORD = new Map<string, ColorName>(COLORS.flatMap((c) => COLOR_WORDS[c].map((w) => [w, c] as const)));
const SHAPE_PHRASES: [string[], ShapeName][] = SHAPES.flatMap((s) => SHAPE_WORDS[s].map((w) => [w.split(' '), s] as [string[], ShapeName]));

/**
 * The attributes a prompt asks for, read as the grammar writes them (any template, any synonym): the colour next to
 * the shape word (before it, or "in <colour>" after it) is the object's, the colour before "background"/"backdrop"
 * or after "on"/"over" is the background's. Undefined when the prompt does not name all three.
 *
 * @example
 * parsePrompt('a blue backdrop with a crimson disk') // { shape: 'circle', color: 'red', background: 'blue' }
 */
export function parsePrompt(prompt: string): ShapeAttributes | undefined {
  const words = prompt.toLowerCase().split(/[^a-z-]+/).filter(Boolean);
  let shape: ShapeName | undefined;
  let shapeAt = -1;
  let shapeEnd = -1;
  for (let i = 0; i < words.length && shape === undefined; i++) {
    for (const [phrase, s] of SHAPE_PHRASES) {
      if (phrase.every((w, k) => words[i + k] === w)) {
        [shape, shapeAt, shapeEnd] = [s, i, i + phrase.length];
        break;
      }
    }
  }
  if (shape === undefined) return undefined;
  let background: ColorName | undefined;
  let backgroundAt = -1;
  words.forEach((w, i) => {
    const c = COLOR_BY_WORD.get(w);
    if (c === undefined || background !== undefined) return;
    const next = words[i + 1];
    const prev = words[i - 1];
    if (next === 'background' || next === 'backdrop' || ((prev === 'on' || prev === 'over') && i !== shapeAt - 1)) [background, backgroundAt] = [c, i];
  });
  let color: ColorName | undefined;
  const before = COLOR_BY_WORD.get(words[shapeAt - 1] ?? '');
  if (before !== undefined && shapeAt - 1 !== backgroundAt) color = before;
  else if (words[shapeEnd] === 'in') color = COLOR_BY_WORD.get(words[shapeEnd + 1] ?? '');
  if (color === undefined) {
    // "a picture of a square, orange, on …": the first colour word that is not the background's.
    const other = words.findIndex((w, i) => i !== backgroundAt && COLOR_BY_WORD.has(w));
    if (other >= 0) color = COLOR_BY_WORD.get(words[other]!);
  }
  if (color === undefined || background === undefined) return undefined;
  return { shape, color, background };
}
