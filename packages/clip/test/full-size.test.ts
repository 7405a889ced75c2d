import { describe, expect, it } from 'vitest';
import { bindSynthetic, Graph, toOnnx } from '@sdxs/graph';
import { Tensor } from '@sdxs/tensor';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { clipTextModel, parseCLIPTextConfig } from '@sdxs/clip';

// openai/clip-vit-large-patch14's text config, as SD 1.x and SDXS-512 folders ship it (text_encoder/config.json).
const CLIP_L = parseCLIPTextConfig(
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
  'clip-vit-large-patch14/config.json',
);

describe('CLIP ViT-L/14 text encoder at full size', () => {
  it('has 123,060,480 parameters and runs on the CPU with synthetic weights', async () => {
    const g = new Graph();
    const out = clipTextModel(g, g.input('input_ids', 'int64', [1, 77]), CLIP_L);
    g.output(out.lastHiddenState, 'last_hidden_state');
    g.output(out.pooledOutput, 'pooler_output');
    expect(g.parameterCount()).toBe(123_060_480);
    bindSynthetic(g, 0);
    const session = await createNodeRuntime().createSession(toOnnx(g));
    const ids = new BigInt64Array(77).fill(2n);
    [49406, 320, 1125, 539, 320, 2368].forEach((t, i) => (ids[i] = BigInt(t)));
    const { last_hidden_state: h, pooler_output: pooled } = await session.run({ input_ids: new Tensor('int64', [1, 77], ids) });
    await session.dispose();
    expect(h?.shape).toEqual([1, 77, 768]);
    expect(pooled?.shape).toEqual([1, 768]);
    const values = h!.toArray();
    expect(values.every(Number.isFinite)).toBe(true);
    // Final layer norm: each position has mean ≈ bias mean and non-trivial spread.
    const row = values.slice(0, 768);
    const std = Math.sqrt(row.reduce((s, v) => s + v * v, 0) / 768);
    expect(std).toBeGreaterThan(0.5);
  });
});
