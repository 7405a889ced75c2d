import type { KindRunner } from '../types.js';
import { runRng } from './rng.js';
import { runVaeKl } from './vae-kl.js';
import { runVaeTiny } from './vae-tiny.js';
import { runTokenizer } from './tokenizer.js';
import { runTextEncoder } from './text-encoder.js';

/** Golden case kinds the project implements, by `kind` in case.json. Later issues add theirs here. */
export const KINDS: Readonly<Record<string, KindRunner>> = {
  rng: runRng,
  'vae-tiny': runVaeTiny,
  'vae-kl': runVaeKl,
  tokenizer: runTokenizer,
  'text-encoder': runTextEncoder,
  unet: async (c) => (await import('./unet.js')).runUNet(c),
  canny: async (c) => (await import('./canny.js')).runCanny(c),
  'pipeline-t2i': async (c) => (await import('./pipeline-t2i.js')).runPipelineT2I(c),
  'pipeline-controlnet': async (c) => (await import('./pipeline-controlnet.js')).runPipelineControlNet(c),
  controlnet: async (c) => (await import('./controlnet.js')).runControlNet(c),
  grad: async (c) => (await import('./grad.js')).runGrad(c),
  losses: async (c) => (await import('./losses.js')).runLosses(c),
};
