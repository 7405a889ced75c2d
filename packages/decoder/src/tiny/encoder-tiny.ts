// diffusers.models.autoencoders.vae.EncoderTiny (TAESD's encoder).
import { Add, Div, conv2d, type Params, type Value } from '@sdxs/graph';
import { autoencoderTinyBlock } from './autoencoder-block.js';
import type { AutoencoderTinyConfig } from './config.js';

/**
 * EncoderTiny: image [N, in_channels, H, W] in [−1, 1] → latents [N, latent_channels, H/2^(stages−1), …],
 * unscaled (AutoencoderTiny.encode returns them as they are). `p` is the `encoder` module; `layers.i` follow
 * nn.Sequential numbering: per stage a 3×3 conv (the first with bias; later ones bias-free with stride 2) and
 * its AutoencoderTinyBlocks, then a final 3×3 conv to latent_channels.
 *
 * @example
 * const latents = encoderTiny(root.child('encoder'), image, config);
 */
export function encoderTiny(p: Params, image: Value, config: AutoencoderTinyConfig): Value {
  const channels = config.encoder_block_out_channels;
  const layers = p.child('layers');
  let index = 0;
  // TAESD works on images in [0, 1].
  let x = Div(Add(image, 1), 2);
  config.num_encoder_blocks.forEach((numBlocks, i) => {
    const width = channels[i]!;
    x =
      i === 0
        ? conv2d(layers.child(index++), x, config.in_channels, width, 3, { padding: 1 })
        : conv2d(layers.child(index++), x, width, width, 3, { padding: 1, stride: 2, bias: false });
    for (let b = 0; b < numBlocks; b++) x = autoencoderTinyBlock(layers.child(index++), x, width, width, config.act_fn);
  });
  return conv2d(layers.child(index), x, channels[channels.length - 1]!, config.latent_channels, 3, { padding: 1 });
}
