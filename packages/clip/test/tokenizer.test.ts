import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '@sdxs/tensor';
import { openSafetensorsFile } from '@sdxs/tensor/node';
import { CLIPTokenizer, forEachWord, normalizeText, TokenizerFileError } from '@sdxs/clip';
import { resolveGoldenPath } from '../../../tools/golden/links.js';
import { folderSource } from './folder-source.js';

const CASE = fileURLToPath(new URL('../../../../shared/golden/tokenizer-clip/', import.meta.url));

interface TokenizerCase {
  prompts: string[];
  max_length: number;
  clip_l_unpadded: number[][];
  open_clip_unpadded: number[][];
  tokenizers: Record<string, string>;
}

// Each flavour: its unpadded ids in case.json, its padded tensor in outputs.safetensors, its folder.
const FLAVOURS = [
  { unpadded: 'clip_l_unpadded', output: 'clip_l_input_ids' },
  { unpadded: 'open_clip_unpadded', output: 'open_clip_input_ids' },
] as const;

let spec: TokenizerCase;
const tokenizers = new Map<string, CLIPTokenizer>();
const reference = new Map<string, Tensor>();

beforeAll(async () => {
  spec = JSON.parse(await readFile(join(CASE, 'case.json'), 'utf8')) as TokenizerCase;
  const outputs = await openSafetensorsFile(join(CASE, 'outputs.safetensors'));
  try {
    for (const f of FLAVOURS) {
      const folder = spec.tokenizers[f.output];
      if (folder === undefined) throw new Error(`case.json names no folder for ${f.output}`);
      tokenizers.set(f.output, await CLIPTokenizer.fromSource(folderSource(CASE), folder));
      reference.set(f.output, await outputs.read(f.output));
    }
  } finally {
    await outputs.close();
  }
});

function tokenizer(output: string): CLIPTokenizer {
  const t = tokenizers.get(output);
  if (!t) throw new Error(`no tokenizer for ${output}`);
  return t;
}

function rows(t: Tensor): number[][] {
  const [batch = 0, width = 0] = t.shape;
  return Array.from({ length: batch }, (_, b) => Array.from(t.data.subarray(b * width, (b + 1) * width), Number));
}

describe.each(FLAVOURS)('CLIPTokenizer against transformers ($output)', ({ unpadded, output }) => {
  it('reads the special tokens and length of its folder', () => {
    const tok = tokenizer(output);
    expect(tok.maxLength).toBe(spec.max_length);
    // Every reference row starts with BOS; a short one ends in EOS and then the folder's pad token.
    const first = spec[unpadded][0] ?? [];
    const row = rows(reference.get(output)!)[0] ?? [];
    expect(tok.bosTokenId).toBe(first[0]);
    expect(tok.eosTokenId).toBe(first[first.length - 1]);
    expect(tok.padTokenId).toBe(row[first.length]);
  });

  it('gives the unpadded ids of every prompt', () => {
    const tok = tokenizer(output);
    const got = spec.prompts.map((p) => tok.encode(p));
    expect(got).toEqual(spec[unpadded]);
  });

  it('gives the padded int64 tensor of the whole batch, with its attention mask', () => {
    const tok = tokenizer(output);
    const want = reference.get(output)!;
    const { inputIds, attentionMask } = tok.call(spec.prompts, { padding: 'max_length', maxLength: spec.max_length, truncation: true });
    expect(inputIds.dtype).toBe('int64');
    expect(inputIds.shape).toEqual(want.shape);
    expect(rows(inputIds)).toEqual(rows(want));
    expect(attentionMask.shape).toEqual(want.shape);
    expect(rows(attentionMask)).toEqual(spec[unpadded].map((ids) => Array.from({ length: spec.max_length }, (_, i) => (i < ids.length ? 1 : 0))));
  });

  it('truncates a long prompt to maxLength, keeping EOS', () => {
    const tok = tokenizer(output);
    // Prompts joined by spaces tokenize to their ids joined (nothing crosses whitespace), so the
    // reference ids of the concatenation are known; it is far longer than 77 tokens.
    const inner = spec[unpadded].flatMap((ids) => ids.slice(1, -1));
    expect(inner.length).toBeGreaterThan(spec.max_length);
    const long = spec.prompts.join(' ');
    expect(tok.encode(long)).toEqual([tok.bosTokenId, ...inner, tok.eosTokenId]);
    const want = [tok.bosTokenId, ...inner.slice(0, spec.max_length - 2), tok.eosTokenId];
    expect(tok.encode(long, { truncation: true })).toEqual(want);
    expect(rows(tok.call([long]).inputIds)).toEqual([want]);
    expect(rows(tok.call([long]).attentionMask)).toEqual([want.map(() => 1)]);
  });

  it('tokenizes only the start of a 10 MB prompt when truncating', () => {
    const tok = tokenizer(output);
    const inner = spec[unpadded].flatMap((ids) => ids.slice(1, -1));
    const once = spec.prompts.join(' ');
    const huge = `${once} `.repeat(Math.ceil(10e6 / (once.length + 1)));
    expect(huge.length).toBeGreaterThanOrEqual(10e6);
    const t0 = performance.now();
    const ids = tok.encode(huge, { truncation: true });
    const ms = performance.now() - t0;
    expect(ids).toEqual([tok.bosTokenId, ...inner.slice(0, spec.max_length - 2), tok.eosTokenId]);
    // Tokenizing all of it takes seconds; the first words take milliseconds. The bound leaves room for a busy machine.
    expect(ms).toBeLessThan(2000);
  });
});

describe('CLIPTokenizer edge cases', () => {
  const clipL = (): CLIPTokenizer => tokenizer('clip_l_input_ids');

  it('keeps special tokens written in a prompt as single ids', () => {
    const tok = clipL();
    const cat = tok.tokenize('a cat');
    expect(tok.tokenize('a cat<|endoftext|>a cat')).toEqual([...cat, tok.eosTokenId, ...cat]);
    expect(tok.tokenize('<|startoftext|>')).toEqual([tok.bosTokenId]);
  });

  it('survives a 10 MB prompt without spaces (one huge word of astral characters)', () => {
    const tok = clipL();
    const word = '🐱🚀'.repeat(2_500_000);
    const ids = tok.encode(word, { truncation: true });
    expect(ids.length).toBe(tok.maxLength);
    expect(ids[ids.length - 1]).toBe(tok.eosTokenId);
    // The same start as a complete BPE of a shorter (but still much longer than 77 tokens) prefix.
    expect(ids.slice(1, -1)).toEqual(tok.tokenize(word.slice(0, 20_000)).slice(0, tok.maxLength - 2));
  });

  it('pads to the longest row on request, and refuses rows too long for the tensor', () => {
    const tok = clipL();
    const { inputIds } = tok.call(['a photo of a cat', 'a cat'], { padding: 'longest' });
    expect(inputIds.shape).toEqual([2, 7]);
    expect(() => tok.call(['a cat '.repeat(100)], { truncation: false })).toThrow(/more than maxLength 77/);
  });

  it('normalises like `tokenizers`: NFC, Unicode White_Space runs, per-character lowercase', () => {
    expect(normalizeText('Cafe\u0301')).toBe('caf\u00e9');
    // U+0085 is White_Space (Oniguruma's \s) though not JavaScript's \s; U+FEFF the other way round.
    expect(normalizeText('a\u0085\u3000 b\ufeffc')).toBe('a b\ufeffc');
    // Rust lowercases char by char: a word-final capital sigma becomes σ, not ς.
    expect(normalizeText('ΟΔΟΣ ΣΑΣ')).toBe('οδοσ σασ');
  });

  it("splits words with CLIP's pattern", () => {
    const words: string[] = [];
    forEachWord("don't 3.14 ok!!! \ufeff", (w) => words.push(w) > 0);
    expect(words).toEqual(['don', "'t", '3', '.', '1', '4', 'ok', '!!!', '\ufeff']);
  });
});

describe('CLIPTokenizer file errors', () => {
  let dir: string;
  let vocab: string;
  let merges: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sdxs-clip-'));
    vocab = await readFile(resolveGoldenPath(join(CASE, 'tokenizer-clip-l', 'vocab.json')), 'utf8');
    merges = await readFile(resolveGoldenPath(join(CASE, 'tokenizer-clip-l', 'merges.txt')), 'utf8');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function loadError(files: Record<string, string>): Promise<TokenizerFileError> {
    const folder = mkdtempSync(join(dir, 'tok-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(folder, name), text);
    const error = await CLIPTokenizer.fromSource(folderSource(folder), '').then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof TokenizerFileError)) throw new Error(`expected a TokenizerFileError, got ${String(error)}`);
    return error;
  }

  it('names a missing vocab.json or merges.txt', async () => {
    const noVocab = await loadError({ 'merges.txt': merges });
    expect(noVocab.file).toMatch(/\/vocab\.json$/);
    expect(noVocab.message).toMatch(/vocab\.json: not found/);
    const noMerges = await loadError({ 'vocab.json': vocab });
    expect(noMerges.message).toMatch(/merges\.txt: not found/);
  });

  it('names a file with malformed JSON', async () => {
    expect((await loadError({ 'vocab.json': '{"a": 1,', 'merges.txt': merges })).message).toMatch(/vocab\.json: invalid JSON/);
    expect((await loadError({ 'vocab.json': '[1, 2]', 'merges.txt': merges })).message).toMatch(/vocab\.json: expected a JSON object/);
    const badConfig = await loadError({ 'vocab.json': vocab, 'merges.txt': merges, 'tokenizer_config.json': '{"pad_token": ' });
    expect(badConfig.message).toMatch(/tokenizer_config\.json: invalid JSON/);
  });

  it('names the merges.txt line that cannot be used', async () => {
    const badLine = await loadError({ 'vocab.json': vocab, 'merges.txt': '#version: 0.2\ni n\nthree parts here\n' });
    expect(badLine.message).toMatch(/merges\.txt: line 3: expected two tokens/);
    const unknown = await loadError({ 'vocab.json': vocab, 'merges.txt': '#version: 0.2\ni n\nqq\u0100 zz\n' });
    expect(unknown.message).toMatch(/merges\.txt: line 3: token "qq\u0100" is not in .*vocab\.json/);
  });

  it('names the config whose pad token is not in the vocabulary', () => {
    const call = () => CLIPTokenizer.fromFiles({ vocab, merges, specialTokensMap: '{"pad_token": "<pad>"}' });
    expect(call).toThrow(TokenizerFileError);
    expect(call).toThrow(/^special_tokens_map\.json: pad_token "<pad>" is not in vocab\.json$/);
  });
});
