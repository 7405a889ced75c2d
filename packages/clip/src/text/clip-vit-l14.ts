import { parseCLIPTextConfig, type CLIPTextConfig } from './config.js';

/**
 * openai/clip-vit-large-patch14's text tower, as SD 1.x and SDXS-512 folders ship it in text_encoder/config.json
 * (123,060,480 parameters). For building the full-size network without the folder: benchmarks, tests.
 */
export const CLIP_VIT_L14_TEXT_CONFIG: CLIPTextConfig = parseCLIPTextConfig(
  {
    architectures: ['CLIPTextModel'],
    hidden_act: 'quick_gelu',
    hidden_size: 768,
    intermediate_size: 3072,
    num_attention_heads: 12,
    num_hidden_layers: 12,
    max_position_embeddings: 77,
    vocab_size: 49408,
    projection_dim: 768,
    layer_norm_eps: 1e-5,
    pad_token_id: 1,
    bos_token_id: 0,
    eos_token_id: 2,
  },
  'clip-vit-large-patch14/text_encoder/config.json',
);
