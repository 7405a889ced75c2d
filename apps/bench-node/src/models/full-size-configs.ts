/**
 * The released SDXS-512 (IDKiro/sdxs-512-dreamshaper) networks at full size, with the parameter counts they must
 * have: the benchmark refuses to report numbers for a network that is not the one it claims to measure.
 */
import { CLIP_VIT_L14_TEXT_CONFIG, type CLIPTextConfig } from '@sdxs/clip';
import { TAESD_CONFIG, type AutoencoderTinyConfig } from '@sdxs/decoder';
import { parseUNetConfig, type UNet2DConditionConfig } from '@sdxs/unet';

/** SDXS-512's pruned U-Net (docs/DESIGN.md): SD 1.5's with the mid block and a layer per stage removed. */
export const SDXS512_UNET: UNet2DConditionConfig = parseUNetConfig(
  {
    sample_size: 64,
    in_channels: 4,
    out_channels: 4,
    center_input_sample: false,
    flip_sin_to_cos: true,
    freq_shift: 0,
    down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
    mid_block_type: null,
    up_block_types: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
    block_out_channels: [320, 640, 1280],
    layers_per_block: 1,
    downsample_padding: 1,
    mid_block_scale_factor: 1,
    act_fn: 'silu',
    norm_num_groups: 32,
    norm_eps: 1e-5,
    cross_attention_dim: 768,
    attention_head_dim: 8,
  },
  'sdxs-512-dreamshaper/unet/config.json',
);

/** openai/clip-vit-large-patch14's text tower, as SD 1.x and SDXS-512 folders ship it. */
export const CLIP_VIT_L14_TEXT: CLIPTextConfig = CLIP_VIT_L14_TEXT_CONFIG;

/** The tiny decoder SDXS ships in vae/ (TAESD's shape). */
export const SDXS_TINY_VAE: AutoencoderTinyConfig = TAESD_CONFIG;

/** Parameters each full-size graph must declare (diffusers/transformers `num_parameters()`). */
export const EXPECTED_PARAMETERS = {
  text_encoder: 123_060_480,
  unet: 315_746_244,
} as const;

/** SDXS-512's scheduler/scheduler_config.json (EulerDiscreteScheduler, "trailing": one step at t = 999, σ = 14.6146). */
export const SDXS_SCHEDULER_CONFIG = {
  _class_name: 'EulerDiscreteScheduler',
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  prediction_type: 'epsilon',
  timestep_spacing: 'trailing',
  steps_offset: 1,
} as const;
