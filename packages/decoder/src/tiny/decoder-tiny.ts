// diffusers.models.autoencoders.vae.DecoderTiny (TAESD's decoder).
import { Div, Mul, Resize, Sub, Tanh, conv2d, type Params, type Value } from '@sdxs/graph';
import { activate } from '../activation.js';
import { autoencoderTinyBlock } from './autoencoder-block.js';
import type { AutoencoderTinyConfig } from './config.js';

/**
 * DecoderTiny: latents [N, latent_channels, h, w] → image [N, out_channels, h·f^(stages−1), …] in [−1, 1].
 * `p` is the `decoder` module; its `layers.i` follow nn.Sequential numbering, where the activations and
 * Upsample layers take an index but hold no parameters:
 * conv_in, act, then per stage its AutoencoderTinyBlocks, an Upsample (all but the last stage) and a 3×3 conv
 * (bias-free except the last, which maps to out_channels).
 *
 * @example
 * const image = decoderTiny(root.child('decoder'), latents, config);
 */
export function decoderTiny(p: Params, latents: Value, config: AutoencoderTinyConfig): Value {
  const channels = config.decoder_block_out_channels;
  const stages = config.num_decoder_blocks;
  const layers = p.child('layers');
  let index = 0;
  // A soft clamp to (−3, 3): TAESD was trained on latents in that range.
  let x = Mul(Tanh(Div(latents, 3)), 3);
  x = conv2d(layers.child(index++), x, config.latent_channels, channels[0]!, 3, { padding: 1 });
  x = activate(x, config.act_fn);
  index++;
  stages.forEach((numBlocks, i) => {
    const width = channels[i]!;
    const last = i === stages.length - 1;
    for (let b = 0; b < numBlocks; b++) x = autoencoderTinyBlock(layers.child(index++), x, width, width, config.act_fn);
    if (!last) {
      const f = config.upsampling_scaling_factor;
      // nn.Upsample(mode='nearest') is F.interpolate's legacy nearest: src = floor(dst / f).
      x = Resize(x, { scales: [f, f], axes: [2, 3], mode: config.upsample_fn, coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' });
      index++;
    }
    x = conv2d(layers.child(index++), x, width, last ? config.out_channels : width, 3, { padding: 1, bias: last });
  });
  // TAESD decodes to [0, 1]; diffusers returns images in [−1, 1].
  return Sub(Mul(x, 2), 1);
}
