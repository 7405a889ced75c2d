// @sdxs/clip: the CLIP BPE tokenizer (the text encoders join it here).
export * from './tokenizer/index.js';
export * from './text/index.js';
