import { describe, expect, it } from 'vitest';
import { bindSynthetic, Graph, toOnnx } from '@sdxs/graph';
import { Tensor } from '@sdxs/tensor';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { CLIP_VIT_L14_TEXT_CONFIG, clipTextModel } from '@sdxs/clip';

const CLIP_L = CLIP_VIT_L14_TEXT_CONFIG;

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
