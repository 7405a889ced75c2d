/**
 * The pipeline's image decoder: AutoencoderTiny (SDXS's `vae/`) or AutoencoderKL (SD's `vae/`, SDXS's
 * `vae_large/`), behind the few things StableDiffusionPipeline asks of `self.vae`.
 */
import { AutoencoderKL, AutoencoderTiny } from '@sdxs/decoder';
import type { Params, Value } from '@sdxs/graph';

export const VAE_CLASSES = ['AutoencoderTiny', 'AutoencoderKL'] as const;
export type VaeClass = (typeof VAE_CLASSES)[number];

export interface PipelineVae {
  readonly className: VaeClass;
  /** The parsed config (part of graph keys). */
  readonly config: unknown;
  /** `vae.config.scaling_factor`: latents are divided by it before decoding. */
  readonly scalingFactor: number;
  /** `vae_scale_factor`: pixels per latent along a side. */
  readonly spatialFactor: number;
  readonly latentChannels: number;
  /** diffusers runs a float16 VAE in float32 when its config says `force_upcast` (the SD 1.x VAE overflows in f16). */
  readonly forceUpcast: boolean;
  /** Checkpoint keys a decode-only graph leaves unused (the same lists as the decoder package's decoderGraph). */
  readonly ignore: readonly RegExp[];
  /** `decode(latents).sample` under `root`: [N, C, h, w] → [N, 3, H, W] in [-1, 1]. */
  decode(root: Params, latents: Value): Value;
}

/**
 * The decoder for a parsed `config.json` of class `className` (from model_index.json); `file` names it in errors.
 *
 * @example
 * const vae = pipelineVae('AutoencoderTiny', JSON.parse(await source.readText('vae/config.json')), 'vae/config.json');
 */
export function pipelineVae(className: string, json: unknown, file: string): PipelineVae {
  if (className === 'AutoencoderTiny') {
    const m = AutoencoderTiny.fromConfig(json, file);
    return {
      className,
      config: m.config,
      scalingFactor: m.scalingFactor,
      spatialFactor: m.spatialFactor,
      latentChannels: m.config.latent_channels,
      forceUpcast: m.config.force_upcast,
      ignore: [/^encoder\./],
      decode: (root, latents) => m.decode(root, latents),
    };
  }
  if (className === 'AutoencoderKL') {
    const m = AutoencoderKL.fromConfig(json, file);
    return {
      className,
      config: m.config,
      scalingFactor: m.scalingFactor,
      spatialFactor: m.spatialFactor,
      latentChannels: m.config.latent_channels,
      forceUpcast: m.config.force_upcast,
      ignore: [/^encoder\./, /^quant_conv\./],
      decode: (root, latents) => m.decode(root, latents),
    };
  }
  throw new Error(`${file}: VAE class ${JSON.stringify(className)} is not supported; supported: ${VAE_CLASSES.join(', ')}`);
}
