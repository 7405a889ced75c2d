// The tiny decoder at SDXS-512 size: TAESD's config (AutoencoderTiny's defaults, what sdxs-512's `vae/` holds),
// deterministic synthetic weights, a 64×64 latent decoded to a 512×512 image on the CPU.
import { describe, expect, it } from 'vitest';
import { AutoencoderTiny, TAESD_CONFIG } from '@sdxs/decoder';
import { toOnnx } from '@sdxs/graph';
import { Tensor, shapeSize } from '@sdxs/tensor';
import { createNodeRuntime } from '@sdxs/runtime-node';

/** mulberry32: a small deterministic PRNG, uniform in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('tiny decoder at full SDXS-512 size', () => {
  it('decodes a 64×64 latent to a 512×512 image', async () => {
    const vae = new AutoencoderTiny(TAESD_CONFIG);
    const { graph } = vae.decoderGraph({ batch: 1, height: 64, width: 64 });
    const next = rng(1234);
    let params = 0;
    for (const init of graph.initializers.values()) {
      if (init.data !== undefined) continue;
      // Variance-preserving for the ReLU stack: weights U(±√(6/fan_in)), biases small.
      const fanIn = init.shape.length > 1 ? shapeSize(init.shape.slice(1)) : 0;
      const bound = fanIn ? Math.sqrt(6 / fanIn) : 0.1;
      const t = Tensor.zeros('float32', init.shape);
      for (let i = 0; i < t.size; i++) t.data[i] = (2 * next() - 1) * bound;
      graph.bind(init.name, t);
      params += t.size;
    }
    // conv_in 4→64, ten AutoencoderTinyBlocks of three 64→64 3×3 convs, three bias-free 64→64 convs, conv_out 64→3.
    const conv = (i: number, o: number, bias = true) => o * i * 9 + (bias ? o : 0);
    expect(params).toBe(conv(4, 64) + 30 * conv(64, 64) + 3 * conv(64, 64, false) + conv(64, 3));

    const latents = Tensor.zeros('float32', [1, 4, 64, 64]);
    for (let i = 0; i < latents.size; i++) latents.data[i] = 4 * (next() - 0.5);
    const session = await createNodeRuntime().createSession(toOnnx(graph), { label: 'taesd-decoder' });
    try {
      const t0 = performance.now();
      const { sample } = await session.run({ latents });
      const ms = performance.now() - t0;
      console.log(`TAESD decoder, 64×64 latent → 512×512, onnxruntime-node CPU: ${ms.toFixed(0)} ms (${params} parameters)`);
      expect(sample?.shape).toEqual([1, 3, 512, 512]);
      const values = sample!.toArray();
      expect(values.every((v) => Number.isFinite(v))).toBe(true);
      // The output is 2·x − 1 of an unbounded conv; a working net spreads over a range, not a constant.
      expect(Math.max(...values.slice(0, 4096)) - Math.min(...values.slice(0, 4096))).toBeGreaterThan(0.01);
    } finally {
      await session.dispose();
    }
  });
});
