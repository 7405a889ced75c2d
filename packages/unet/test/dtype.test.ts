// float16 graphs: parameters and activations in f16, sinusoids in f32 then cast, attention upcast where asked.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { float16ToFloat32, Tensor } from '@sdxs/tensor';
import { openSafetensorsFile } from '@sdxs/tensor/node';
import { bindCheckpoint, toOnnx } from '@sdxs/graph';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { buildUNetGraph, parseUNetConfig, UNET_OUTPUT } from '@sdxs/unet';
import { caseFile } from '../../../tools/golden/links.js';

const DIR = fileURLToPath(new URL('../../../../shared/golden/unet-sdxs512', import.meta.url));

describe('float16', () => {
  it('builds with f16 parameters, binds f32 weights converted, and runs', async () => {
    const raw = JSON.parse(readFileSync(caseFile(DIR, 'config.json'), 'utf8'));
    const config = parseUNetConfig({ ...raw, upcast_attention: true }, 'unet-sdxs512/config.json');
    const { graph } = buildUNetGraph(config, { dtype: 'float16', batch: 1, timestep: 'scalar' });
    expect([...graph.initializers.values()].filter((i) => i.data === undefined).every((i) => i.dtype === 'float16')).toBe(true);
    // upcast_attention: q, k, v cast to f32 and the result back, in attn1 and attn2 of each of the 6 transformers
    // (down 1 and 2 have one layer each, up 0 and 1 two).
    expect(graph.nodes.filter((n) => n.opType === 'Cast' && n.name.includes('.attn')).length).toBe(6 * 2 * 4);
    const weights = await openSafetensorsFile(caseFile(DIR, 'model.safetensors'));
    try {
      await bindCheckpoint(graph, [weights]);
    } finally {
      await weights.close();
    }
    const session = await createNodeRuntime().createSession(toOnnx(graph));
    try {
      const half = (shape: number[], v: number) => new Tensor('float16', shape, new Uint16Array(shape.reduce((a, b) => a * b)).fill(v));
      const out = await session.run({
        sample: half([1, 4, 16, 16], 0x3800), // 0.5
        timestep: new Tensor('float32', [], Float32Array.of(999)),
        encoder_hidden_states: half([1, 77, 32], 0x2e66), // 0.1
      });
      const y = out[UNET_OUTPUT]!;
      expect([y.dtype, ...y.shape]).toEqual(['float16', 1, 4, 16, 16]);
      expect(Array.from(float16ToFloat32(y.data as Uint16Array)).every(Number.isFinite)).toBe(true);
    } finally {
      await session.dispose();
    }
  });
});
