/**
 * The SDXS-512 graphs the CPU profile measures, built unbound at an image size, with random inputs: the U-Net, the
 * tiny decoder, and the fused one-step graph the pipeline runs (U-Net at t = 999, x0, decoder, RGBA bytes).
 */
import { AutoencoderTiny, TAESD_CONFIG } from '@sdxs/decoder';
import type { Graph, LoweringOverrides } from '@sdxs/graph';
import { oneStepGraph, pipelineVae } from '@sdxs/pipeline';
import { EulerDiscreteScheduler } from '@sdxs/schedulers';
import { Generator, Tensor } from '@sdxs/tensor';
import { buildUNetGraph } from '@sdxs/unet';
import { SDXS512_UNET, SDXS_SCHEDULER_CONFIG } from '../models/full-size-configs.js';

export type Net = 'unet' | 'decoder' | 'step';
export const NETS: readonly Net[] = ['unet', 'decoder', 'step'];

/**
 * The full-size U-Net (one-step SDXS: scalar timestep 999, 77 tokens), the tiny decoder, or the fused one-step
 * graph for a `size`² image; parameters left unbound (bind them with bindSynthetic).
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
  if (net === 'step') return oneStep(latent, lowering);
  const { graph } = new AutoencoderTiny(TAESD_CONFIG).decoderGraph({ target: 'cpu', batch: 1, height: latent, width: latent, lowering });
  return { graph, feeds: { latents: rng.randn([1, TAESD_CONFIG.latent_channels, latent, latent]) } };
}

/** @sdxs/pipeline's oneStepGraph for SDXS-512's Euler "trailing" step, without guidance, fed σ·z as the pipeline does. */
function oneStep(latent: number, lowering: LoweringOverrides): { graph: Graph; feeds: Record<string, Tensor> } {
  const scheduler = EulerDiscreteScheduler.fromConfig(SDXS_SCHEDULER_CONFIG, 'sdxs-512-dreamshaper/scheduler/scheduler_config.json');
  scheduler.setTimesteps(1);
  const c = scheduler.stepCoefficients(scheduler.timesteps[0]!);
  const vae = pipelineVae('AutoencoderTiny', TAESD_CONFIG, 'vae/config.json');
  const graph = oneStepGraph(
    { config: SDXS512_UNET, contextDim: 768, contextLength: 77 },
    vae,
    { timestep: c.timestep, inputDivisor: c.inputDivisor, x0Coef: c.x0Coef, prevCoef: c.prevCoef },
    { batch: 1, latentHeight: latent, latentWidth: latent, guidance: false },
    { target: 'cpu', dtype: 'float32', lowering },
  );
  const rng = new Generator(0);
  const latents = rng.randn([1, 4, latent, latent]);
  for (let i = 0; i < latents.data.length; i++) latents.data[i]! *= scheduler.initNoiseSigma;
  return { graph, feeds: { latents, encoder_hidden_states: rng.randn([1, 77, 768]) } };
}
