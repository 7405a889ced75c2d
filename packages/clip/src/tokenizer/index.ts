// Hand-written, not @huggingface/tokenizers: it needs tokenizer.json, lowercases a final Σ unlike transformers, has no truncation and is 5–6× slower (docs/libraries.md).
export { CLIPTokenizer, type BatchEncoding, type CallOptions, type EncodeOptions } from './clip-tokenizer.js';
export { BytePairEncoder, type BpeOptions, type Merge } from './bpe.js';
export { normalizeText } from './clean.js';
export { TokenizerFileError } from './errors.js';
export {
  CLIP_MAX_LENGTH,
  CLIP_SPECIAL_TOKENS,
  type SpecialTokens,
  type TokenizerFileNames,
  type TokenizerFiles,
} from './files.js';
export { forEachWord } from './pre-tokenize.js';
export { buildClipVocabulary, type BuiltVocabulary } from './build-vocabulary.js';
