import { buildClipVocabulary, type CLIPTextConfig, type CLIPTokenizer } from '@sdxs/clip';
import { grammarWords } from '@sdxs/shapes';
import { MICRO_MAX_LENGTH, MICRO_TEXT_ENCODER } from './configs.js';

/** The tokenizer files of the micro model: the grammar's words, one token each. */
export function microTokenizerFiles() {
  return buildClipVocabulary(grammarWords(), { maxLength: MICRO_MAX_LENGTH });
}

/** The micro text-encoder config with the vocabulary's size and special tokens filled in. */
export function microTextEncoderConfig(tokenizer: CLIPTokenizer, vocabSize: number): CLIPTextConfig & Record<string, unknown> {
  return { ...MICRO_TEXT_ENCODER, vocab_size: vocabSize, bos_token_id: tokenizer.bosTokenId, eos_token_id: tokenizer.eosTokenId, pad_token_id: tokenizer.padTokenId } as unknown as CLIPTextConfig & Record<string, unknown>;
}

