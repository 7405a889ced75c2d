/**
 * Our CLIP tokenizer (@sdxs/clip) against @huggingface/tokenizers — the tokenizer inside transformers.js — loaded
 * from the same vocab.json + merges.txt through the tokenizer.json that transformers' CLIPConverter would build.
 * Golden ids (transformers 5.17, ../shared/golden/tokenizer-clip), agreement on generated prompts, the test
 * suite's long-prompt cases, speed and load time.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import { CLIPTokenizer } from '@sdxs/clip';
import { median } from '../stats.js';
import { clipTokenizerJson, type ClipSpecials } from './clip-tokenizer-json.js';
import { comparisonPrompts } from './prompts.js';
import { interleaved } from './protobuf.js';

const SHARED = fileURLToPath(new URL('../../../../../shared/', import.meta.url));

export interface TokenizerComparison {
  golden: { cases: number; ours_equal: number; lib_equal: number };
  generated: { prompts: number; differ: number; differ_without_capital_sigma: number; example?: string };
  /** ms for a 10 MB prompt with truncation to 77 (the library has no truncation: it tokenizes all, then we cut). */
  ten_mb_prompt_ms: { ours: number; lib: number | string };
  /** One 10 MB word of astral characters. */
  ten_mb_word: { ours: string; lib: string };
  tokens_per_s: { ours: number; lib: number };
  load_ms: { ours: number; lib: number; convert: number };
}

interface GoldenCase {
  prompts: string[];
  clip_l_unpadded: number[][];
  open_clip_unpadded: number[][];
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

function specials(pad: string): ClipSpecials {
  return { bos: '<|startoftext|>', eos: '<|endoftext|>', pad, unk: '<|endoftext|>' };
}

function ourTokenizer(vocab: string, merges: string, sp: ClipSpecials): CLIPTokenizer {
  return CLIPTokenizer.fromFiles({ vocab, merges, specialTokensMap: JSON.stringify({ bos_token: sp.bos, eos_token: sp.eos, pad_token: sp.pad, unk_token: sp.unk }) });
}

/** Truncation as transformers does it for CLIP: at most 75 tokens between BOS and EOS. */
function libTruncated(lib: Tokenizer, text: string): number[] {
  const ids = lib.encode(text).ids;
  return ids.length <= 77 ? ids : [...ids.slice(0, 76), ids[ids.length - 1]!];
}

function attempt(fn: () => unknown): string {
  const t0 = performance.now();
  try {
    fn();
    return `${(performance.now() - t0).toFixed(0)} ms`;
  } catch (e) {
    return `${e instanceof Error ? e.constructor.name : 'error'}: ${(e instanceof Error ? e.message : String(e)).slice(0, 60)}`;
  }
}

export async function compareTokenizer(log: (s: string) => void, runs: number): Promise<TokenizerComparison> {
  const vocab = await readFile(`${SHARED}clip-tokenizer/vocab.json`, 'utf8');
  const merges = await readFile(`${SHARED}clip-tokenizer/merges.txt`, 'utf8');
  const golden = JSON.parse(await readFile(`${SHARED}golden/tokenizer-clip/case.json`, 'utf8')) as GoldenCase;
  const sp = specials('<|endoftext|>');
  const json = JSON.stringify(clipTokenizerJson(vocab, merges, sp));
  const [loadOurs, loadLib] = await interleaved(
    runs,
    () => ourTokenizer(vocab, merges, sp),
    () => new Tokenizer(JSON.parse(json) as object, {}),
  );
  const [convert] = await interleaved(runs, () => clipTokenizerJson(vocab, merges, sp), () => undefined);

  const goldenResult = { cases: 0, ours_equal: 0, lib_equal: 0 };
  for (const [key, pad] of [['clip_l_unpadded', '<|endoftext|>'], ['open_clip_unpadded', '!']] as const) {
    const s = specials(pad);
    const ours = ourTokenizer(vocab, merges, s);
    const lib = new Tokenizer(clipTokenizerJson(vocab, merges, s), {});
    golden.prompts.forEach((p, i) => {
      const want = golden[key][i] ?? [];
      goldenResult.cases++;
      if (same(ours.encode(p), want)) goldenResult.ours_equal++;
      if (same(lib.encode(p).ids, want)) goldenResult.lib_equal++;
    });
  }
  log(`tokenizer: golden ids equal: ours ${goldenResult.ours_equal}/${goldenResult.cases}, @huggingface/tokenizers ${goldenResult.lib_equal}/${goldenResult.cases}`);

  const ours = ourTokenizer(vocab, merges, sp);
  const lib = new Tokenizer(JSON.parse(json) as object, {});
  const prompts = comparisonPrompts(500);
  const generated: TokenizerComparison['generated'] = { prompts: prompts.length, differ: 0, differ_without_capital_sigma: 0 };
  for (const p of prompts) {
    if (same(ours.encode(p), lib.encode(p).ids)) continue;
    generated.differ++;
    if (!p.includes('\u03a3')) generated.differ_without_capital_sigma++;
    generated.example ??= p;
  }
  // Rust's per-character lowercase (tokenizers' Lowercase normalizer) maps a word-final Σ to σ; JavaScript's
  // toLowerCase applies Final_Sigma and gives ς — a different token.
  const sigma = { ours: ours.tokenize('ΟΔΥΣΣΕΥΣ'), lib: lib.encode('ΟΔΥΣΣΕΥΣ', { add_special_tokens: false }).ids };
  log(`tokenizer: ${generated.differ} of ${prompts.length} generated prompts differ (${generated.differ_without_capital_sigma} without a capital sigma); "ΟΔΥΣΣΕΥΣ": ours ${sigma.ours.join(' ')}, lib ${sigma.lib.join(' ')}`);

  const once = golden.prompts.join(' ');
  const huge = `${once} `.repeat(Math.ceil(10e6 / (once.length + 1)));
  let t0 = performance.now();
  ours.encode(huge, { truncation: true });
  const hugeOurs = performance.now() - t0;
  t0 = performance.now();
  let hugeLib: number | string;
  try {
    libTruncated(lib, huge);
    hugeLib = performance.now() - t0;
  } catch (e) {
    hugeLib = e instanceof Error ? e.message.slice(0, 60) : String(e);
  }
  const word = '🐱🚀'.repeat(2_500_000);
  const tenMbWord = { ours: attempt(() => ours.encode(word, { truncation: true })), lib: attempt(() => libTruncated(lib, word)) };
  log(`tokenizer: 10 MB prompt truncated to 77: ours ${hugeOurs.toFixed(0)} ms, lib ${typeof hugeLib === 'number' ? `${hugeLib.toFixed(0)} ms` : hugeLib}; 10 MB word: ours ${tenMbWord.ours}, lib ${tenMbWord.lib}`);

  const speedPrompts = comparisonPrompts(2000, 2);
  let tokens = 0;
  for (const p of speedPrompts) tokens += ours.encode(p).length;
  const [sOurs, sLib] = await interleaved(
    runs,
    () => speedPrompts.forEach((p) => ours.encode(p)),
    () => speedPrompts.forEach((p) => lib.encode(p)),
  );
  const result: TokenizerComparison = {
    golden: goldenResult,
    generated,
    ten_mb_prompt_ms: { ours: hugeOurs, lib: hugeLib },
    ten_mb_word: tenMbWord,
    tokens_per_s: { ours: tokens / (median(sOurs) / 1000), lib: tokens / (median(sLib) / 1000) },
    load_ms: { ours: median(loadOurs), lib: median(loadLib), convert: median(convert) },
  };
  log(`tokenizer: ${(result.tokens_per_s.ours / 1e6).toFixed(2)} vs ${(result.tokens_per_s.lib / 1e6).toFixed(2)} M tokens/s; load ${result.load_ms.ours.toFixed(0)} vs ${result.load_ms.lib.toFixed(0)} ms (+${result.load_ms.convert.toFixed(0)} ms to build tokenizer.json)`);
  return result;
}
