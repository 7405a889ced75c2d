// diffusers.models.autoencoders.autoencoder_tiny.AutoencoderTiny.
import { Add, Clip, Div, Mul, Sub, type Params, type Value } from '@sdxs/graph';
import { startGraph, type VaeGraph, type VaeGraphOptions } from '../graph-options.js';
import { parseAutoencoderTinyConfig, type AutoencoderTinyConfig } from './config.js';
import { decoderTiny } from './decoder-tiny.js';
import { encoderTiny } from './encoder-tiny.js';

/**
 * AutoencoderTiny (TAESD): the tiny decoder SDXS uses, and its encoder. Methods add nodes to a graph under the
 * model's root Params, so parameters get the checkpoint keys (`decoder.layers.2.conv.0.weight`).
 *
 * @example
 * const vae = AutoencoderTiny.fromConfig(JSON.parse(text), 'vae/config.json');
 * const { graph, ignore } = vae.decoderGraph({ height: 64, width: 64 });
 * await bindCheckpoint(graph, [await openSafetensorsFile('vae/diffusion_pytorch_model.safetensors')], { ignore });
 */
export class AutoencoderTiny {
  readonly config: AutoencoderTinyConfig;

  constructor(config: AutoencoderTinyConfig) {
    this.config = config;
  }

  /** Validate a parsed config.json (see parseAutoencoderTinyConfig) and make the model. */
  static fromConfig(json: unknown, file = 'config.json'): AutoencoderTiny {
    return new AutoencoderTiny(parseAutoencoderTinyConfig(json, file));
  }

  /** `scaling_factor`: the pipeline decodes `latents / scalingFactor` (1.0 for TAESD). */
  get scalingFactor(): number {
    return this.config.scaling_factor;
  }

  get shiftFactor(): number {
    return this.config.shift_factor;
  }

  /** How many pixels one latent covers along each side (8 for TAESD). */
  get spatialFactor(): number {
    return this.config.upsampling_scaling_factor ** (this.config.num_decoder_blocks.length - 1);
  }

  /** `decode(latents).sample`: latents [N, C, h, w] → image [N, out_channels, H, W] in [−1, 1]. */
  decode(root: Params, latents: Value): Value {
    return decoderTiny(root.child('decoder'), latents, this.config);
  }

  /** `encode(image).latents`: image in [−1, 1] → raw latents (not multiplied by the scaling factor). */
  encode(root: Params, image: Value): Value {
    return encoderTiny(root.child('encoder'), image, this.config);
  }

  /** `scale_latents`: raw latents → [0, 1] (TAESD's 8-bit latent storage). */
  scaleLatents(x: Value): Value {
    return Clip(Add(Div(x, 2 * this.config.latent_magnitude), this.config.latent_shift), 0, 1);
  }

  /** `unscale_latents`: [0, 1] → raw latents. */
  unscaleLatents(x: Value): Value {
    return Mul(Sub(x, this.config.latent_shift), 2 * this.config.latent_magnitude);
  }

  /** A graph `latents` [batch, latent_channels, height, width] → `sample` (the image in [−1, 1]). */
  decoderGraph(options: VaeGraphOptions = {}): VaeGraph {
    const { graph, root, x } = startGraph('autoencoder_tiny_decode', 'latents', this.config.latent_channels, options);
    graph.output(this.decode(root, x), 'sample');
    return { graph, ignore: [/^encoder\./] };
  }

  /** A graph `image` [batch, in_channels, height, width] in [−1, 1] → `latents`. */
  encoderGraph(options: VaeGraphOptions = {}): VaeGraph {
    const { graph, root, x } = startGraph('autoencoder_tiny_encode', 'image', this.config.in_channels, options);
    graph.output(this.encode(root, x), 'latents');
    return { graph, ignore: [/^decoder\./] };
  }
}
