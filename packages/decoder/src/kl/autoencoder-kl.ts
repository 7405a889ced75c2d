// diffusers.models.autoencoders.autoencoder_kl.AutoencoderKL (and vae.DiagonalGaussianDistribution).
import { Clip, Split, conv2d, type Params, type Value } from '@sdxs/graph';
import { startGraph, type VaeGraph, type VaeGraphOptions } from '../graph-options.js';
import { parseAutoencoderKLConfig, type AutoencoderKLConfig } from './config.js';
import { decoder } from './decoder.js';
import { encoder } from './encoder.js';

/** The posterior `encode(image).latent_dist` as graph values: its mean and its clamped log-variance. */
export interface LatentDist {
  readonly mean: Value;
  /** Clamped to [−30, 20], as DiagonalGaussianDistribution does. */
  readonly logvar: Value;
}

/**
 * AutoencoderKL: the full Stable Diffusion VAE (SDXS ships one as `vae_large/`). Methods add nodes under the
 * model's root Params, so parameters get the checkpoint keys (`decoder.up_blocks.0.resnets.0.conv1.weight`).
 *
 * @example
 * const vae = AutoencoderKL.fromConfig(JSON.parse(text), 'vae_large/config.json');
 * const { graph, ignore } = vae.decoderGraph({ height: 64, width: 64 });
 */
export class AutoencoderKL {
  readonly config: AutoencoderKLConfig;

  constructor(config: AutoencoderKLConfig) {
    this.config = config;
  }

  /** Validate a parsed config.json (see parseAutoencoderKLConfig) and make the model. */
  static fromConfig(json: unknown, file = 'config.json'): AutoencoderKL {
    return new AutoencoderKL(parseAutoencoderKLConfig(json, file));
  }

  /** `scaling_factor`: the pipeline decodes `latents / scalingFactor` (0.18215 for SD 1.x). */
  get scalingFactor(): number {
    return this.config.scaling_factor;
  }

  get shiftFactor(): number | null {
    return this.config.shift_factor;
  }

  /** How many pixels one latent covers along each side (8 for the SD VAE). */
  get spatialFactor(): number {
    return 2 ** (this.config.block_out_channels.length - 1);
  }

  /** `decode(z).sample`: post_quant_conv, then the Decoder. */
  decode(root: Params, latents: Value): Value {
    const c = this.config.latent_channels;
    const z = this.config.use_post_quant_conv ? conv2d(root.child('post_quant_conv'), latents, c, c, 1) : latents;
    return decoder(root.child('decoder'), z, this.config);
  }

  /** `encode(x).latent_dist`: the Encoder, quant_conv, then the Gaussian's mean and clamped log-variance. */
  encode(root: Params, image: Value): LatentDist {
    const c2 = 2 * this.config.latent_channels;
    let moments = encoder(root.child('encoder'), image, this.config);
    if (this.config.use_quant_conv) moments = conv2d(root.child('quant_conv'), moments, c2, c2, 1);
    const [mean, logvar] = Split(moments, 2, 1) as [Value, Value];
    return { mean, logvar: Clip(logvar, -30, 20) };
  }

  /** A graph `latents` [batch, latent_channels, height, width] → `sample`. Height and width must be numbers (the mid-block attention folds tokens back into an image). */
  decoderGraph(options: VaeGraphOptions = {}): VaeGraph {
    const { graph, root, x } = startGraph('autoencoder_kl_decode', 'latents', this.config.latent_channels, options);
    graph.output(this.decode(root, x), 'sample');
    return { graph, ignore: [/^encoder\./, /^quant_conv\./] };
  }

  /** A graph `image` [batch, in_channels, height, width] → `mean` and `logvar` (static height and width, as for decode). */
  encoderGraph(options: VaeGraphOptions = {}): VaeGraph {
    const { graph, root, x } = startGraph('autoencoder_kl_encode', 'image', this.config.in_channels, options);
    const { mean, logvar } = this.encode(root, x);
    graph.output(mean, 'mean');
    graph.output(logvar, 'logvar');
    return { graph, ignore: [/^decoder\./, /^post_quant_conv\./] };
  }
}
