/**
 * A `tokenizer.json` for a CLIP tokenizer folder that has only vocab.json + merges.txt (every Stable Diffusion
 * repo's `tokenizer/`), built as transformers' `convert_slow_tokenizer.CLIPConverter` builds it. The
 * JavaScript tokenizers (@huggingface/tokenizers, transformers.js) read only tokenizer.json, so this is the
 * glue a switch to them would need.
 */
export interface ClipSpecials {
  bos: string;
  eos: string;
  pad: string;
  unk: string;
}

function addedToken(id: number, content: string): Record<string, unknown> {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** tokenizer.json (as an object) from vocab.json and merges.txt text and the folder's special tokens. */
export function clipTokenizerJson(vocabText: string, mergesText: string, specials: ClipSpecials): Record<string, unknown> {
  const vocab = JSON.parse(vocabText) as Record<string, number>;
  const merges = mergesText
    .split('\n')
    .filter((l, i) => !(i === 0 && l.startsWith('#version')) && l.trim() !== '')
    .map((l) => l.split(' ') as [string, string]);
  const idOf = (t: string): number => {
    const id = vocab[t];
    if (id === undefined) throw new Error(`special token ${t} not in vocab.json`);
    return id;
  };
  const specialsById = new Map<number, string>();
  for (const t of [specials.bos, specials.eos, specials.pad, specials.unk]) specialsById.set(idOf(t), t);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [...specialsById].sort((a, b) => a[0] - b[0]).map(([id, t]) => addedToken(id, t)),
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [specials.eos, idOf(specials.eos)],
      cls: [specials.bos, idOf(specials.bos)],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: specials.unk,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}
