/**
 * The pipeline's image decoder: AutoencoderTiny (SDXS's `vae/`) or AutoencoderKL (SD's `vae/`, SDXS's
 * `vae_large/`), behind the few things StableDiffusionPipeline asks of `self.vae`.
 */
import { AutoencoderKL, AutoencoderTiny } from '@sdxs/decoder';
import { Add, Exp, Mul, type Params, type Value } from '@sdxs/graph';

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
  /** Whether `encode` draws from the posterior and so needs a `noise` value (AutoencoderKL). */
  readonly encodeSamples: boolean;
  /**
   * img2img's `retrieve_latents(vae.encode(image), generator)` under `root`: [N, 3, H, W] in [-1, 1] → unscaled
   * latents. AutoencoderTiny returns its encoder's output; AutoencoderKL samples `mean + exp(logvar / 2) · noise`
   * (`latent_dist.sample`, `noise` standard normal of the latents' shape).
   */
  encode(root: Params, image: Value, noise?: Value): Value;
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
      encodeSamples: false,
      encode: (root, image) => m.encode(root, image),
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
      encodeSamples: true,
      encode: (root, image, noise) => {
        if (!noise) throw new Error('AutoencoderKL.encode samples its posterior: give standard normal noise of the latents\' shape');
        const { mean, logvar } = m.encode(root, image);
        // DiagonalGaussianDistribution: std = exp(0.5 · logvar); sample = mean + std · noise.
        return Add(mean, Mul(Exp(Mul(logvar, 0.5)), noise));
      },
    };
  }
  throw new Error(`${file}: VAE class ${JSON.stringify(className)} is not supported; supported: ${VAE_CLASSES.join(', ')}`);
}
