// The config.json of diffusers' AutoencoderTiny (models/autoencoders/autoencoder_tiny.py), field for field.
import { ACTIVATIONS, type Activation } from '../activation.js';
import { ConfigReader } from '../config-reader.js';

/** `upsample_fn` values the graph builds (nn.Upsample modes). */
export const TINY_UPSAMPLE_FNS = ['nearest'] as const;

/** diffusers' AutoencoderTiny config (TAESD shape by default). */
export interface AutoencoderTinyConfig {
  readonly in_channels: number;
  readonly out_channels: number;
  readonly encoder_block_out_channels: readonly number[];
  readonly decoder_block_out_channels: readonly number[];
  readonly act_fn: Activation;
  readonly upsample_fn: (typeof TINY_UPSAMPLE_FNS)[number];
  readonly latent_channels: number;
  readonly upsampling_scaling_factor: number;
  readonly num_encoder_blocks: readonly number[];
  readonly num_decoder_blocks: readonly number[];
  readonly latent_magnitude: number;
  readonly latent_shift: number;
  readonly force_upcast: boolean;
  readonly scaling_factor: number;
  readonly shift_factor: number;
  /** diffusers registers it as a copy of `decoder_block_out_channels`. */
  readonly block_out_channels: readonly number[];
}

/**
 * The defaults of `AutoencoderTiny.__init__`: TAESD, the tiny decoder SDXS-512 ships in `vae/`
 * (≈1.2 M decoder parameters).
 */
export const TAESD_CONFIG: AutoencoderTinyConfig = {
  in_channels: 3,
  out_channels: 3,
  encoder_block_out_channels: [64, 64, 64, 64],
  decoder_block_out_channels: [64, 64, 64, 64],
  act_fn: 'relu',
  upsample_fn: 'nearest',
  latent_channels: 4,
  upsampling_scaling_factor: 2,
  num_encoder_blocks: [1, 3, 3, 3],
  num_decoder_blocks: [3, 3, 3, 1],
  latent_magnitude: 3,
  latent_shift: 0.5,
  force_upcast: false,
  scaling_factor: 1.0,
  shift_factor: 0.0,
  block_out_channels: [64, 64, 64, 64],
};

/**
 * Validate a parsed `config.json` as an AutoencoderTiny config. The fields that shape the network are
 * required; those older diffusers versions did not write (`upsample_fn`, `latent_magnitude`, `latent_shift`,
 * `force_upcast`, `scaling_factor`, `shift_factor`, `block_out_channels`) take diffusers' defaults, as
 * `from_pretrained` does. Every problem is reported at once in one ConfigError naming `file` and the fields.
 *
 * @example
 * const config = parseAutoencoderTinyConfig(JSON.parse(text), 'vae/config.json');
 */
export function parseAutoencoderTinyConfig(json: unknown, file = 'config.json'): AutoencoderTinyConfig {
  const r = new ConfigReader(json, file, 'AutoencoderTiny');
  const d = TAESD_CONFIG;
  const decoderChannels = r.ints('decoder_block_out_channels', 1);
  const config: AutoencoderTinyConfig = {
    in_channels: r.int('in_channels', 1),
    out_channels: r.int('out_channels', 1),
    encoder_block_out_channels: r.ints('encoder_block_out_channels', 1),
    decoder_block_out_channels: decoderChannels,
    act_fn: r.choice('act_fn', ACTIVATIONS, undefined, (s) => s.toLowerCase()),
    upsample_fn: r.choice('upsample_fn', TINY_UPSAMPLE_FNS, { default: d.upsample_fn }),
    latent_channels: r.int('latent_channels', 1),
    upsampling_scaling_factor: r.int('upsampling_scaling_factor', 1),
    num_encoder_blocks: r.ints('num_encoder_blocks', 0),
    num_decoder_blocks: r.ints('num_decoder_blocks', 0),
    latent_magnitude: r.number('latent_magnitude', { default: d.latent_magnitude }),
    latent_shift: r.number('latent_shift', { default: d.latent_shift }),
    force_upcast: r.boolean('force_upcast', { default: d.force_upcast }),
    scaling_factor: r.number('scaling_factor', { default: d.scaling_factor }),
    shift_factor: r.number('shift_factor', { default: d.shift_factor }),
    block_out_channels: r.ints('block_out_channels', 1, { default: decoderChannels.length ? decoderChannels : d.block_out_channels }),
  };
  for (const side of ['encoder', 'decoder'] as const) {
    const channels = config[`${side}_block_out_channels`];
    const blocks = config[`num_${side}_blocks`];
    if (channels.length && blocks.length && channels.length !== blocks.length) {
      // AutoencoderTiny.__init__ raises the same ValueError.
      r.problem(`${side}_block_out_channels`, `has ${channels.length} entries but num_${side}_blocks has ${blocks.length}; they must match`);
    }
    // EncoderTiny/DecoderTiny chain stage i−1's output into convolutions declared with stage i's width, so torch
    // can only run configs whose stages all have one width.
    if (channels.some((c) => c !== channels[0])) {
      r.problem(`${side}_block_out_channels`, `is ${JSON.stringify(channels)}; ${side === 'encoder' ? 'EncoderTiny' : 'DecoderTiny'} needs every stage to have the same width`);
    }
  }
  r.done();
  return config;
}
