// AutoencoderTiny.scale_latents / unscale_latents: TAESD's 8-bit latent storage, from the config's magnitude and shift.
import { describe, expect, it } from 'vitest';
import { AutoencoderTiny, TAESD_CONFIG } from '@sdxs/decoder';
import { Graph, toOnnx } from '@sdxs/graph';
import { Tensor } from '@sdxs/tensor';
import { createNodeRuntime } from '@sdxs/runtime-node';

describe('AutoencoderTiny latent scaling', () => {
  it('scaleLatents = clamp(x / (2·magnitude) + shift, 0, 1) and unscaleLatents inverts it inside the range', async () => {
    const vae = new AutoencoderTiny({ ...TAESD_CONFIG, latent_magnitude: 2, latent_shift: 0.25 });
    const xs = [-9, -1, -0.5, 0, 0.7, 2.9, 3, 12];
    const g = new Graph();
    const x = g.input('x', 'float32', [xs.length]);
    const scaled = vae.scaleLatents(x);
    g.output(scaled, 'scaled');
    g.output(vae.unscaleLatents(scaled), 'back');
    const session = await createNodeRuntime().createSession(toOnnx(g));
    try {
      const out = await session.run({ x: new Tensor('float32', [xs.length], Float32Array.from(xs)) });
      const scaledWant = xs.map((v) => Math.min(1, Math.max(0, v / 4 + 0.25)));
      out['scaled']!.toArray().forEach((v, i) => expect(v, `scale(${xs[i]})`).toBeCloseTo(scaledWant[i]!, 6));
      out['back']!.toArray().forEach((v, i) => expect(v, `unscale(scale(${xs[i]}))`).toBeCloseTo((scaledWant[i]! - 0.25) * 4, 5));
    } finally {
      await session.dispose();
    }
  });
});
