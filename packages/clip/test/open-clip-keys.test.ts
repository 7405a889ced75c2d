// OpenCLIP's text tower names, written out from diffusers' convert_open_clip_checkpoint and its marker keys.
import { describe, expect, it } from 'vitest';
import { openClipKeyToTransformers, transformersKeyToOpenClip } from '@sdxs/clip';

const ONE_TO_ONE: ReadonlyArray<readonly [string, string]> = [
  ['token_embedding.weight', 'text_model.embeddings.token_embedding.weight'],
  ['positional_embedding', 'text_model.embeddings.position_embedding.weight'],
  ['ln_final.weight', 'text_model.final_layer_norm.weight'],
  ['ln_final.bias', 'text_model.final_layer_norm.bias'],
  ['transformer.resblocks.0.ln_1.weight', 'text_model.encoder.layers.0.layer_norm1.weight'],
  ['transformer.resblocks.0.ln_2.bias', 'text_model.encoder.layers.0.layer_norm2.bias'],
  ['transformer.resblocks.3.mlp.c_fc.weight', 'text_model.encoder.layers.3.mlp.fc1.weight'],
  // diffusers' "xl_base" marker key, under conditioner.embedders.1.model.
  ['transformer.resblocks.9.mlp.c_proj.bias', 'text_model.encoder.layers.9.mlp.fc2.bias'],
  ['transformer.resblocks.22.attn.out_proj.weight', 'text_model.encoder.layers.22.self_attn.out_proj.weight'],
];

describe('OpenCLIP text tower names', () => {
  it.each(ONE_TO_ONE)('%s <-> %s', (open, hf) => {
    expect(openClipKeyToTransformers(open)).toEqual([{ name: hf }]);
    expect(transformersKeyToOpenClip(hf)).toEqual({ name: open });
  });

  it('splits the fused in_proj into q, k, v thirds by rows', () => {
    expect(openClipKeyToTransformers('transformer.resblocks.2.attn.in_proj_weight')).toEqual([
      { name: 'text_model.encoder.layers.2.self_attn.q_proj.weight', third: 0 },
      { name: 'text_model.encoder.layers.2.self_attn.k_proj.weight', third: 1 },
      { name: 'text_model.encoder.layers.2.self_attn.v_proj.weight', third: 2 },
    ]);
    expect(transformersKeyToOpenClip('text_model.encoder.layers.2.self_attn.v_proj.bias')).toEqual({ name: 'transformer.resblocks.2.attn.in_proj_bias', third: 2 });
  });

  it('transposes text_projection (x @ P against a linear layer) and skips what transformers has no place for', () => {
    expect(openClipKeyToTransformers('text_projection')).toEqual([{ name: 'text_projection.weight', transpose: true }]);
    expect(transformersKeyToOpenClip('text_projection.weight')).toEqual({ name: 'text_projection', transpose: true });
    expect(openClipKeyToTransformers('logit_scale')).toBeUndefined();
    expect(openClipKeyToTransformers('attn_mask')).toBeUndefined();
    expect(transformersKeyToOpenClip('text_model.embeddings.position_ids')).toBeUndefined();
  });
});
