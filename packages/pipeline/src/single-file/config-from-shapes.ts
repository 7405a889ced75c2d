/**
 * Diffusers/transformers `config.json` files from the tensors' shapes (diffusers-named), for checkpoints that
 * carry no config. Shapes decide channels, levels, layers, attention placement and depth, projection kinds and
 * widths; what they cannot tell (attention head counts, the VAE's scaling factor, the text encoder's activation,
 * sizes) comes from the family's published configs, as diffusers' `from_single_file` takes them from the hub —
 * or, better, from a diffusers folder passed as `config`.
 */
import type { CheckpointFamily } from './identify.js';

/** Tensor name → shape, for one component. */
export type Shapes = ReadonlyMap<string, readonly number[]>;

function dim(shapes: Shapes, name: string, axis: number, component: string): number {
  const d = shapes.get(name)?.[axis];
  if (d === undefined) throw new Error(`${component}: no ${name} to read its size from`);
  return d;
}

/** How many `<prefix>.<n>.` groups the names have. */
function count(shapes: Shapes, prefix: string): number {
  const seen = new Set<string>();
  for (const k of shapes.keys()) if (k.startsWith(prefix)) seen.add(k.slice(prefix.length).split('.')[0]!);
  return seen.size;
}

function has(shapes: Shapes, prefix: string): boolean {
  for (const k of shapes.keys()) if (k.startsWith(prefix)) return true;
  return false;
}

/** The per-level value, or the number when all levels agree (as diffusers writes configs). */
function collapse(values: readonly number[]): number | number[] {
  return values.every((v) => v === values[0]) ? values[0]! : [...values];
}

/**
 * UNet2DConditionModel's config.json from its weights' shapes. `pooledDim` (SDXL: the second text encoder's
 * projection width) fixes `addition_time_embed_dim`.
 *
 * @example
 * unetConfigFromShapes(shapes, 'sd1').block_out_channels; // [320, 640, 1280, 1280]
 */
export function unetConfigFromShapes(shapes: Shapes, family: CheckpointFamily, pooledDim?: number): Record<string, unknown> {
  const u = 'unet';
  const levels = count(shapes, 'down_blocks.');
  const block_out_channels = Array.from({ length: levels }, (_, b) => dim(shapes, `down_blocks.${b}.resnets.0.conv1.weight`, 0, u));
  const attn = (side: 'down' | 'up', b: number) => has(shapes, `${side}_blocks.${b}.attentions.`);
  const down_block_types = block_out_channels.map((_, b) => (attn('down', b) ? 'CrossAttnDownBlock2D' : 'DownBlock2D'));
  const up_block_types = block_out_channels.map((_, b) => (attn('up', b) ? 'CrossAttnUpBlock2D' : 'UpBlock2D'));
  const depth = block_out_channels.map((_, b) => (attn('down', b) ? count(shapes, `down_blocks.${b}.attentions.0.transformer_blocks.`) : 1));
  const firstAttention = [...shapes.keys()].find((k) => /attentions\.\d+\.transformer_blocks\.0\.attn2\.to_k\.weight$/.test(k));
  const projIn = [...shapes.keys()].find((k) => /attentions\.\d+\.proj_in\.weight$/.test(k));
  const mid = has(shapes, 'mid_block.attentions.') ? 'UNetMidBlock2DCrossAttn' : has(shapes, 'mid_block.resnets.') ? 'UNetMidBlock2D' : null;
  const textTime = shapes.has('add_embedding.linear_1.weight');
  const projectionInput = textTime ? dim(shapes, 'add_embedding.linear_1.weight', 1, u) : null;
  // SD 1.x names 8 heads per layer ("attention_head_dim": 8); SD 2.x and SDXL use 64-wide heads.
  const heads = family === 'sd1' ? 8 : collapse(block_out_channels.map((c) => Math.max(1, Math.round(c / 64))));
  return {
    _class_name: 'UNet2DConditionModel',
    sample_size: family === 'sdxl' ? 128 : family === 'sd2' ? 96 : 64,
    in_channels: dim(shapes, 'conv_in.weight', 1, u),
    out_channels: dim(shapes, 'conv_out.weight', 0, u),
    center_input_sample: false,
    flip_sin_to_cos: true,
    freq_shift: 0,
    down_block_types,
    mid_block_type: mid,
    up_block_types,
    only_cross_attention: false,
    block_out_channels,
    layers_per_block: count(shapes, 'down_blocks.0.resnets.'),
    downsample_padding: 1,
    mid_block_scale_factor: 1,
    act_fn: 'silu',
    norm_num_groups: 32,
    norm_eps: 1e-5,
    cross_attention_dim: firstAttention ? dim(shapes, firstAttention, 1, u) : 768,
    transformer_layers_per_block: collapse(depth),
    attention_head_dim: heads,
    use_linear_projection: projIn !== undefined && shapes.get(projIn)!.length === 2,
    class_embed_type: null,
    addition_embed_type: textTime ? 'text_time' : null,
    addition_time_embed_dim: textTime ? (pooledDim !== undefined ? (projectionInput! - pooledDim) / 6 : 256) : null,
    projection_class_embeddings_input_dim: projectionInput,
    upcast_attention: false,
    resnet_time_scale_shift: 'default',
    time_embedding_type: 'positional',
    conv_in_kernel: dim(shapes, 'conv_in.weight', 2, u),
    conv_out_kernel: dim(shapes, 'conv_out.weight', 2, u),
  };
}

/**
 * AutoencoderKL's config.json from its weights' shapes.
 *
 * @example
 * vaeConfigFromShapes(shapes, 'sdxl').scaling_factor; // 0.13025
 */
export function vaeConfigFromShapes(shapes: Shapes, family: CheckpointFamily): Record<string, unknown> {
  const v = 'vae';
  const levels = count(shapes, 'encoder.down_blocks.');
  const block_out_channels = Array.from({ length: levels }, (_, b) => dim(shapes, `encoder.down_blocks.${b}.resnets.0.conv1.weight`, 0, v));
  return {
    _class_name: 'AutoencoderKL',
    in_channels: dim(shapes, 'encoder.conv_in.weight', 1, v),
    out_channels: dim(shapes, 'decoder.conv_out.weight', 0, v),
    down_block_types: Array<string>(levels).fill('DownEncoderBlock2D'),
    up_block_types: Array<string>(levels).fill('UpDecoderBlock2D'),
    block_out_channels,
    layers_per_block: count(shapes, 'encoder.down_blocks.0.resnets.'),
    act_fn: 'silu',
    latent_channels: dim(shapes, 'decoder.conv_in.weight', 1, v),
    norm_num_groups: 32,
    sample_size: family === 'sdxl' ? 1024 : family === 'sd2' ? 768 : 512,
    scaling_factor: family === 'sdxl' ? 0.13025 : 0.18215,
    force_upcast: true,
    use_quant_conv: shapes.has('quant_conv.weight'),
    use_post_quant_conv: shapes.has('post_quant_conv.weight'),
    mid_block_add_attention: has(shapes, 'encoder.mid_block.attentions.'),
  };
}

/**
 * transformers' CLIPTextConfig from the text encoder's shapes; `openClip`: the weights came in OpenCLIP's layout
 * (gelu, as LAION trained it; OpenAI's CLIP uses quick_gelu).
 *
 * @example
 * textConfigFromShapes(shapes, false).hidden_size; // 768
 */
export function textConfigFromShapes(shapes: Shapes, openClip: boolean): Record<string, unknown> {
  const t = 'text_encoder';
  const hidden = dim(shapes, 'text_model.embeddings.token_embedding.weight', 1, t);
  const projection = shapes.get('text_projection.weight');
  return {
    architectures: [projection ? 'CLIPTextModelWithProjection' : 'CLIPTextModel'],
    vocab_size: dim(shapes, 'text_model.embeddings.token_embedding.weight', 0, t),
    hidden_size: hidden,
    intermediate_size: dim(shapes, 'text_model.encoder.layers.0.mlp.fc1.weight', 0, t),
    projection_dim: projection?.[0] ?? 768,
    num_hidden_layers: count(shapes, 'text_model.encoder.layers.'),
    // Every released CLIP text tower (L, H, bigG) uses 64-wide heads.
    num_attention_heads: Math.max(1, Math.round(hidden / 64)),
    max_position_embeddings: dim(shapes, 'text_model.embeddings.position_embedding.weight', 0, t),
    hidden_act: openClip ? 'gelu' : 'quick_gelu',
    layer_norm_eps: 1e-5,
    // OpenCLIP pads with "!" (id 0), OpenAI's CLIP with its end token; the pooled output is taken at the end token.
    pad_token_id: openClip ? 0 : 49407,
    bos_token_id: 49406,
    eos_token_id: 49407,
    model_type: 'clip_text_model',
  };
}
