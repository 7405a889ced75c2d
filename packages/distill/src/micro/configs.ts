// The micro Stable Diffusion: SD's architecture families (CLIPTextModel, AutoencoderKL, UNet2DConditionModel with
// cross-attention, a mid block and two layers per block) at the scale this 2-core machine trains, on 64×64 images
// of the shapes data set. Each config is the config.json a diffusers folder holds.

/** Tokens per prompt (the grammar's longest caption is 17 with BOS/EOS). */
export const MICRO_MAX_LENGTH = 24;

export const MICRO_TEXT_ENCODER = {
  _name_or_path: 'sdxs-micro/text_encoder',
  architectures: ['CLIPTextModel'],
  model_type: 'clip_text_model',
  hidden_size: 64,
  intermediate_size: 256,
  projection_dim: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  max_position_embeddings: MICRO_MAX_LENGTH,
  hidden_act: 'quick_gelu',
  layer_norm_eps: 1e-5,
  initializer_range: 0.02,
  initializer_factor: 1.0,
  attention_dropout: 0.0,
  dropout: 0.0,
  pad_token_id: 1,
  torch_dtype: 'float16',
} as const;

/** 64×64×3 ↔ 8×8×4 (8× down, as SD's VAE). `scaling_factor` is set after training from the latents' std. */
export const MICRO_VAE = {
  _class_name: 'AutoencoderKL',
  in_channels: 3,
  out_channels: 3,
  down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D'],
  up_block_types: ['UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D'],
  block_out_channels: [16, 32, 64, 64],
  layers_per_block: 1,
  act_fn: 'silu',
  latent_channels: 4,
  // Few groups: GroupNorm with one channel per group erases each channel's spatial mean, and with it a flat
  // background's colour (measured: the loss stalls at the images' variance with 16 groups of 16 channels).
  norm_num_groups: 4,
  sample_size: 64,
  scaling_factor: 1.0,
  force_upcast: false,
  mid_block_add_attention: true,
} as const;

/**
 * SD 1.x's layout (cross-attention down/up blocks around a cross-attention mid block, 2 layers per block) on 8×8
 * latents; 3.65 M parameters, so that the whole float16 folder stays under 10 MB.
 */
export const MICRO_UNET = {
  _class_name: 'UNet2DConditionModel',
  sample_size: 8,
  in_channels: 4,
  out_channels: 4,
  center_input_sample: false,
  flip_sin_to_cos: true,
  freq_shift: 0,
  down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  mid_block_type: 'UNetMidBlock2DCrossAttn',
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
  only_cross_attention: false,
  block_out_channels: [48, 80, 80],
  layers_per_block: 2,
  downsample_padding: 1,
  mid_block_scale_factor: 1,
  act_fn: 'silu',
  norm_num_groups: 8,
  norm_eps: 1e-5,
  cross_attention_dim: 64,
  // SD 1.x's name for the number of heads.
  attention_head_dim: 4,
  use_linear_projection: false,
} as const;

/** SD's scaled-linear betas; DPM-Solver++ (the teacher's sampler) by default. */
export const MICRO_SCHEDULER = {
  _class_name: 'DPMSolverMultistepScheduler',
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  prediction_type: 'epsilon',
  solver_order: 2,
  algorithm_type: 'dpmsolver++',
  solver_type: 'midpoint',
  lower_order_final: true,
  // 'trailing' starts sampling at t = 999 (pure noise), as SDXS's schedulers do; 'leading' would start at 961.
  timestep_spacing: 'trailing',
  steps_offset: 0,
  set_alpha_to_one: false,
  clip_sample: false,
  thresholding: false,
} as const;

/** ᾱ_t of SD's scaled-linear schedule, t = 0 … 999. */
export function alphasCumprod(): Float64Array {
  const n = MICRO_SCHEDULER.num_train_timesteps;
  const lo = Math.sqrt(MICRO_SCHEDULER.beta_start);
  const hi = Math.sqrt(MICRO_SCHEDULER.beta_end);
  const out = new Float64Array(n);
  let acc = 1;
  for (let t = 0; t < n; t++) {
    const b = (lo + ((hi - lo) * t) / (n - 1)) ** 2;
    acc *= 1 - b;
    out[t] = acc;
  }
  return out;
}
