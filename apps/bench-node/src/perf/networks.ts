/** The two SDXS-512 networks the CPU profile measures, built unbound at an image size, with random inputs. */
import { AutoencoderTiny, TAESD_CONFIG } from '@sdxs/decoder';
import type { Graph, LoweringOverrides } from '@sdxs/graph';
import { Generator, Tensor } from '@sdxs/tensor';
import { buildUNetGraph } from '@sdxs/unet';
import { SDXS512_UNET } from '../models/full-size-configs.js';

export type Net = 'unet' | 'decoder';

/**
 * The full-size U-Net (one-step SDXS: scalar timestep 999, 77 tokens) or the tiny decoder for a `size`² image;
 * parameters left unbound (bind them with bindSynthetic).
 *
 * @example
 * const { graph, feeds } = buildNetwork('decoder', 512, {});
 */
export function buildNetwork(net: Net, size: number, lowering: LoweringOverrides): { graph: Graph; feeds: Record<string, Tensor> } {
  const rng = new Generator(0);
  const latent = size / 8;
  if (net === 'unet') {
    const { graph } = buildUNetGraph(SDXS512_UNET, { target: 'cpu', batch: 1, height: latent, width: latent, timestep: 'scalar', lowering });
    const feeds = {
      sample: rng.randn([1, 4, latent, latent]),
      timestep: new Tensor('float32', [], new Float32Array([999])),
      encoder_hidden_states: rng.randn([1, 77, 768]),
    };
    return { graph, feeds };
  }
  const { graph } = new AutoencoderTiny(TAESD_CONFIG).decoderGraph({ target: 'cpu', batch: 1, height: latent, width: latent, lowering });
  return { graph, feeds: { latents: rng.randn([1, TAESD_CONFIG.latent_channels, latent, latent]) } };
}
