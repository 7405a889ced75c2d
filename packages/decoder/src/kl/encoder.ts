// diffusers.models.autoencoders.vae.Encoder (double_z=True, as AutoencoderKL builds it).
import { conv2d, type Params, type Value } from '@sdxs/graph';
import type { AutoencoderKLConfig } from './config.js';
import { downEncoderBlock2D } from './down-encoder-block.js';
import { uNetMidBlock2D } from './mid-block.js';
import { VAE_EPS, groupNormAct } from './norm-act.js';

/**
 * Encoder: image [N, in_channels, H, W] → the Gaussian's parameters [N, 2·latent_channels, H/2^(stages−1), …]
 * (mean then logvar along channels, before quant_conv). `p` is the `encoder` module: conv_in, down_blocks
 * (each halving the size except the last), mid_block, then conv_norm_out → SiLU → conv_out.
 *
 * @example
 * const moments = encoder(root.child('encoder'), image, config);
 */
export function encoder(p: Params, image: Value, config: AutoencoderKLConfig): Value {
  const channels = config.block_out_channels;
  const groups = config.norm_num_groups;
  let h = conv2d(p.child('conv_in'), image, config.in_channels, channels[0]!, 3, { padding: 1 });
  channels.forEach((out, i) => {
    h = downEncoderBlock2D(p.child('down_blocks').child(i), h, {
      inChannels: channels[Math.max(0, i - 1)]!,
      outChannels: out,
      numLayers: config.layers_per_block,
      groups,
      eps: VAE_EPS,
      actFn: config.act_fn,
      addDownsample: i < channels.length - 1,
      downsamplePadding: 0,
    });
  });
  const top = channels[channels.length - 1]!;
  h = uNetMidBlock2D(p.child('mid_block'), h, { channels: top, groups, eps: VAE_EPS, actFn: config.act_fn, addAttention: config.mid_block_add_attention, attentionHeadDim: top });
  // conv_act is nn.SiLU whatever act_fn says.
  h = groupNormAct(p.child('conv_norm_out'), h, top, groups, VAE_EPS, 'silu');
  return conv2d(p.child('conv_out'), h, top, 2 * config.latent_channels, 3, { padding: 1 });
}
