// diffusers.models.autoencoders.vae.Decoder (norm_type "group", as AutoencoderKL builds it).
import { conv2d, type Params, type Value } from '@sdxs/graph';
import type { AutoencoderKLConfig } from './config.js';
import { uNetMidBlock2D } from './mid-block.js';
import { VAE_EPS, groupNormAct } from './norm-act.js';
import { upDecoderBlock2D } from './up-decoder-block.js';

/**
 * Decoder: latents [N, latent_channels, h, w] (after post_quant_conv) → image [N, out_channels, h·2^(stages−1), …].
 * `p` is the `decoder` module: conv_in to the widest stage, mid_block, up_blocks over the reversed widths (each
 * with layers_per_block + 1 resnets, all but the last doubling the size), then conv_norm_out → SiLU → conv_out.
 *
 * @example
 * const image = decoder(root.child('decoder'), latents, config);
 */
export function decoder(p: Params, latents: Value, config: AutoencoderKLConfig): Value {
  const reversed = [...config.block_out_channels].reverse();
  const groups = config.norm_num_groups;
  const top = reversed[0]!;
  let h = conv2d(p.child('conv_in'), latents, config.latent_channels, top, 3, { padding: 1 });
  h = uNetMidBlock2D(p.child('mid_block'), h, { channels: top, groups, eps: VAE_EPS, actFn: config.act_fn, addAttention: config.mid_block_add_attention, attentionHeadDim: top });
  reversed.forEach((out, i) => {
    h = upDecoderBlock2D(p.child('up_blocks').child(i), h, {
      inChannels: reversed[Math.max(0, i - 1)]!,
      outChannels: out,
      numLayers: config.layers_per_block + 1,
      groups,
      eps: VAE_EPS,
      actFn: config.act_fn,
      addUpsample: i < reversed.length - 1,
    });
  });
  const bottom = reversed[reversed.length - 1]!;
  // conv_act is nn.SiLU whatever act_fn says.
  h = groupNormAct(p.child('conv_norm_out'), h, bottom, groups, VAE_EPS, 'silu');
  return conv2d(p.child('conv_out'), h, bottom, config.out_channels, 3, { padding: 1 });
}
