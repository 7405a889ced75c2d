// The config.json of diffusers' AutoencoderKL (models/autoencoders/autoencoder_kl.py), field for field.
import { ACTIVATIONS, type Activation } from '../activation.js';
import { ConfigReader } from '../config-reader.js';

/** diffusers' AutoencoderKL config (the SD/SDXL VAE; SDXS ships one in `vae_large/`). */
export interface AutoencoderKLConfig {
  readonly in_channels: number;
  readonly out_channels: number;
  readonly down_block_types: readonly 'DownEncoderBlock2D'[];
  readonly up_block_types: readonly 'UpDecoderBlock2D'[];
  readonly block_out_channels: readonly number[];
  readonly layers_per_block: number;
  readonly act_fn: Activation;
  readonly latent_channels: number;
  readonly norm_num_groups: number;
  readonly sample_size: number | readonly number[];
  readonly scaling_factor: number;
  readonly shift_factor: number | null;
  readonly latents_mean: readonly number[] | null;
  readonly latents_std: readonly number[] | null;
  readonly force_upcast: boolean;
  readonly use_quant_conv: boolean;
  readonly use_post_quant_conv: boolean;
  readonly mid_block_add_attention: boolean;
}

/**
 * Validate a parsed `config.json` as an AutoencoderKL config. The fields that shape the network are required;
 * those older diffusers versions did not write take `AutoencoderKL.__init__`'s defaults, as `from_pretrained`
 * does (`sample_size` 32, `scaling_factor` 0.18215, `shift_factor`/`latents_mean`/`latents_std` null,
 * `force_upcast`, `use_quant_conv`, `use_post_quant_conv`, `mid_block_add_attention` true). Every problem is
 * reported at once in one ConfigError naming `file` and the fields.
 *
 * @example
 * const config = parseAutoencoderKLConfig(JSON.parse(text), 'vae_large/config.json');
 */
export function parseAutoencoderKLConfig(json: unknown, file = 'config.json'): AutoencoderKLConfig {
  const r = new ConfigReader(json, file, 'AutoencoderKL');
  const config: AutoencoderKLConfig = {
    in_channels: r.int('in_channels', 1),
    out_channels: r.int('out_channels', 1),
    down_block_types: r.choices('down_block_types', ['DownEncoderBlock2D'] as const),
    up_block_types: r.choices('up_block_types', ['UpDecoderBlock2D'] as const),
    block_out_channels: r.ints('block_out_channels', 1),
    layers_per_block: r.int('layers_per_block', 1),
    act_fn: r.choice('act_fn', ACTIVATIONS, undefined, (s) => s.toLowerCase()),
    latent_channels: r.int('latent_channels', 1),
    norm_num_groups: r.int('norm_num_groups', 1),
    sample_size: r.intOrInts('sample_size', 1, { default: 32 }),
    scaling_factor: r.number('scaling_factor', { default: 0.18215 }),
    shift_factor: r.numberOrNull('shift_factor', { default: null }),
    latents_mean: r.numbersOrNull('latents_mean', { default: null }),
    latents_std: r.numbersOrNull('latents_std', { default: null }),
    force_upcast: r.boolean('force_upcast', { default: true }),
    use_quant_conv: r.boolean('use_quant_conv', { default: true }),
    use_post_quant_conv: r.boolean('use_post_quant_conv', { default: true }),
    mid_block_add_attention: r.boolean('mid_block_add_attention', { default: true }),
  };
  const stages = config.block_out_channels.length;
  // Encoder/Decoder take "final block" from block_out_channels' length and index it by block type.
  for (const field of ['down_block_types', 'up_block_types'] as const) {
    const n = config[field].length;
    if (n && stages && n !== stages) r.problem(field, `has ${n} entries but block_out_channels has ${stages}; they must match`);
  }
  const groups = config.norm_num_groups;
  const bad = config.block_out_channels.filter((c) => Number.isInteger(groups) && c % groups !== 0);
  if (bad.length) r.problem('norm_num_groups', `is ${groups}, which does not divide the widths ${JSON.stringify(bad)} of block_out_channels (GroupNorm needs it to)`);
  r.done();
  return config;
}
