/**
 * The `config.json` of a diffusers `ControlNetModel` (diffusers/models/controlnets/controlnet.py), field for field,
 * and its validation. The fields it shares with `UNet2DConditionModel` are checked by @sdxs/unet's parser (same
 * names, same meaning, same defaults), so both refuse the same unsupported features with the same words.
 */
import { parseUNetConfig, UNetConfigError, type DownBlockType, type UNet2DConditionConfig } from '@sdxs/unet';

/** Mid blocks diffusers' ControlNetModel builds; it raises for anything else, `null` included. */
export type ControlNetMidBlockType = 'UNetMidBlock2DCrossAttn' | 'UNetMidBlock2D';
/** `controlnet_conditioning_channel_order`: `bgr` flips the conditioning image's channels before use. */
export type ChannelOrder = 'rgb' | 'bgr';

/** A `ControlNetModel` config.json with diffusers' defaults filled in, narrowed to what sdxs builds. */
export interface ControlNetConfig {
  in_channels: number;
  /** Channels of the conditioning image (3 for RGB control images). */
  conditioning_channels: number;
  flip_sin_to_cos: boolean;
  freq_shift: number;
  down_block_types: readonly DownBlockType[];
  mid_block_type: ControlNetMidBlockType;
  only_cross_attention: boolean | readonly boolean[];
  block_out_channels: readonly number[];
  /** One count for every stage: ControlNetModel does not index it per stage. */
  layers_per_block: number;
  downsample_padding: number;
  mid_block_scale_factor: number;
  act_fn: 'silu' | 'swish';
  norm_num_groups: number;
  norm_eps: number;
  /** One width for every block: ControlNetModel passes it whole to each block. */
  cross_attention_dim: number;
  transformer_layers_per_block: number | readonly (number | readonly number[])[];
  encoder_hid_dim: null;
  encoder_hid_dim_type: null;
  /** The head count when `num_attention_heads` is null (diffusers issue #2011), as in the U-Net. */
  attention_head_dim: number | readonly number[];
  num_attention_heads: number | readonly number[] | null;
  use_linear_projection: boolean;
  class_embed_type: null;
  addition_embed_type: 'text_time' | null;
  addition_time_embed_dim: number | null;
  num_class_embeds: null;
  upcast_attention: boolean;
  resnet_time_scale_shift: 'default';
  projection_class_embeddings_input_dim: number | null;
  controlnet_conditioning_channel_order: ChannelOrder;
  /** Output channels of ControlNetConditioningEmbedding's conv_in and blocks; each step after the first halves H and W. */
  conditioning_embedding_out_channels: readonly number[];
  /** Average the residuals over H and W (diffusers' shuffle ControlNets). */
  global_pool_conditions: boolean;
  /** Read only for `addition_embed_type: 'text'` in diffusers: no effect here. */
  addition_embed_type_num_heads: number;
}

/** A ControlNet config.json field that is missing, mistyped or asks for something sdxs does not implement. */
export class ControlNetConfigError extends Error {
  override readonly name = 'ControlNetConfigError';
  readonly file: string;
  readonly field: string;

  constructor(file: string, field: string, message: string) {
    super(`${file}: ${field}: ${message}`);
    this.file = file;
    this.field = field;
  }
}

/** The ControlNetModel.__init__ arguments of diffusers, with their defaults where the U-Net parser's differ or lack them. */
const OWN_DEFAULTS = {
  conditioning_channels: 3,
  mid_block_type: 'UNetMidBlock2DCrossAttn',
  controlnet_conditioning_channel_order: 'rgb',
  conditioning_embedding_out_channels: [16, 32, 96, 256],
  global_pool_conditions: false,
} as const;

/** Fields ControlNetModel shares with UNet2DConditionModel (validated by parseUNetConfig). */
const SHARED = [
  'in_channels', 'flip_sin_to_cos', 'freq_shift', 'down_block_types', 'only_cross_attention', 'block_out_channels',
  'layers_per_block', 'downsample_padding', 'mid_block_scale_factor', 'act_fn', 'norm_num_groups', 'norm_eps',
  'cross_attention_dim', 'transformer_layers_per_block', 'encoder_hid_dim', 'encoder_hid_dim_type', 'attention_head_dim',
  'num_attention_heads', 'use_linear_projection', 'class_embed_type', 'addition_embed_type', 'addition_time_embed_dim',
  'num_class_embeds', 'upcast_attention', 'resnet_time_scale_shift', 'projection_class_embeddings_input_dim',
  'addition_embed_type_num_heads',
] as const;

const KNOWN = new Set<string>([...SHARED, ...Object.keys(OWN_DEFAULTS), 'mid_block_type']);

const UP_OF: Readonly<Record<string, string>> = { DownBlock2D: 'UpBlock2D', CrossAttnDownBlock2D: 'CrossAttnUpBlock2D' };

function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

/**
 * The U-Net config.json the shared fields describe: ControlNetModel is the encoder half of that U-Net. The fields a
 * ControlNet config does not have are filled so that they cannot fail (the up path mirrors the down path), and
 * every message the U-Net parser can give names a field of the ControlNet config.
 */
function asUNetJson(raw: Readonly<Record<string, unknown>>, midBlockType: ControlNetMidBlockType): Record<string, unknown> {
  const json: Record<string, unknown> = { sample_size: null, out_channels: 4, center_input_sample: false };
  for (const key of SHARED) if (Object.hasOwn(raw, key)) json[key] = raw[key];
  const down = raw['down_block_types'];
  if (Array.isArray(down)) json['up_block_types'] = [...down].reverse().map((t) => UP_OF[String(t)] ?? t);
  // UNetMidBlock2D has no attention, so the U-Net view has no cross-attention mid block to check heads for.
  json['mid_block_type'] = midBlockType === 'UNetMidBlock2DCrossAttn' ? midBlockType : null;
  // Per-layer transformer depths make the U-Net parser ask for the up path's depths; ours mirror the down path's.
  const depths = raw['transformer_layers_per_block'];
  if (Array.isArray(depths) && depths.some(Array.isArray)) {
    json['reverse_transformer_layers_per_block'] = [...depths].reverse().map((d: unknown) => (Array.isArray(d) ? [...d, d[d.length - 1]] : d));
  }
  return json;
}

/**
 * Validate a parsed ControlNet `config.json` and fill in diffusers' defaults. Throws one {@link ControlNetConfigError}
 * naming the field and `file` for the first problem: a required field missing, a wrong type, an unknown field, a
 * value diffusers' ControlNetModel refuses (`mid_block_type: null` — a ControlNet always has a mid block, even for a
 * U-Net without one), or a feature sdxs does not implement.
 *
 * @example
 * const config = parseControlNetConfig(JSON.parse(await readFile('controlnet/config.json', 'utf8')), 'controlnet/config.json');
 */
export function parseControlNetConfig(json: unknown, file: string): ControlNetConfig {
  // A declaration (not an arrow) so that calls narrow types: TypeScript's rule for `never`-returning functions.
  function fail(field: string, message: string): never {
    throw new ControlNetConfigError(file, field, message);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('(root)', 'is not a JSON object');
  const raw = json as Readonly<Record<string, unknown>>;
  for (const key of Object.keys(raw)) {
    if (!key.startsWith('_') && !KNOWN.has(key)) fail(key, 'is not a ControlNetModel config field');
  }
  const className = raw['_class_name'];
  if (className !== undefined && className !== 'ControlNetModel') fail('_class_name', `${show(className)} is not ControlNetModel`);
  const get = (field: keyof typeof OWN_DEFAULTS | 'mid_block_type'): unknown => (Object.hasOwn(raw, field) ? raw[field] : OWN_DEFAULTS[field]);

  const mid = get('mid_block_type');
  if (mid !== 'UNetMidBlock2DCrossAttn' && mid !== 'UNetMidBlock2D') {
    fail('mid_block_type', `${show(mid)} is not a ControlNet mid block (diffusers raises "unknown mid_block_type"); use "UNetMidBlock2DCrossAttn" or "UNetMidBlock2D" — a ControlNet keeps its mid block even for a U-Net without one`);
  }
  const midBlockType: ControlNetMidBlockType = mid;

  let unet: UNet2DConditionConfig;
  try {
    unet = parseUNetConfig(asUNetJson(raw, midBlockType), file);
  } catch (e) {
    if (!(e instanceof UNetConfigError)) throw e;
    const prefix = `${e.file}: ${e.field}: `;
    throw new ControlNetConfigError(file, e.field, e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message);
  }
  // ControlNetModel uses these two whole where the U-Net indexes them per stage.
  const layers = unet.layers_per_block;
  if (typeof layers !== 'number') fail('layers_per_block', `must be one integer for ControlNetModel, got ${show(layers)}`);
  const crossDim = unet.cross_attention_dim;
  if (typeof crossDim !== 'number') fail('cross_attention_dim', `must be one integer for ControlNetModel, got ${show(crossDim)}`);

  const channels = get('conditioning_channels');
  if (typeof channels !== 'number' || !Number.isInteger(channels) || channels < 1) fail('conditioning_channels', `must be a positive integer, got ${show(channels)}`);
  const order = get('controlnet_conditioning_channel_order');
  if (order !== 'rgb' && order !== 'bgr') fail('controlnet_conditioning_channel_order', `must be "rgb" or "bgr", got ${show(order)}`);
  const embedding = get('conditioning_embedding_out_channels');
  if (!Array.isArray(embedding) || embedding.length === 0) fail('conditioning_embedding_out_channels', `must be a non-empty list of integers, got ${show(embedding)}`);
  const embeddingChannels = embedding.map((c, i) =>
    typeof c === 'number' && Number.isInteger(c) && c >= 1 ? c : fail(`conditioning_embedding_out_channels[${i}]`, `must be a positive integer, got ${show(c)}`),
  );
  const pool = get('global_pool_conditions');
  if (typeof pool !== 'boolean') fail('global_pool_conditions', `must be true or false, got ${show(pool)}`);

  return {
    in_channels: unet.in_channels,
    conditioning_channels: channels,
    flip_sin_to_cos: unet.flip_sin_to_cos,
    freq_shift: unet.freq_shift,
    down_block_types: unet.down_block_types,
    mid_block_type: midBlockType,
    only_cross_attention: unet.only_cross_attention,
    block_out_channels: unet.block_out_channels,
    layers_per_block: layers,
    downsample_padding: unet.downsample_padding,
    mid_block_scale_factor: unet.mid_block_scale_factor,
    act_fn: unet.act_fn,
    norm_num_groups: unet.norm_num_groups,
    norm_eps: unet.norm_eps,
    cross_attention_dim: crossDim,
    transformer_layers_per_block: unet.transformer_layers_per_block,
    encoder_hid_dim: unet.encoder_hid_dim,
    encoder_hid_dim_type: unet.encoder_hid_dim_type,
    attention_head_dim: unet.attention_head_dim,
    num_attention_heads: unet.num_attention_heads,
    use_linear_projection: unet.use_linear_projection,
    class_embed_type: unet.class_embed_type,
    addition_embed_type: unet.addition_embed_type,
    addition_time_embed_dim: unet.addition_time_embed_dim,
    num_class_embeds: unet.num_class_embeds,
    upcast_attention: unet.upcast_attention,
    resnet_time_scale_shift: unet.resnet_time_scale_shift,
    projection_class_embeddings_input_dim: unet.projection_class_embeddings_input_dim,
    controlnet_conditioning_channel_order: order,
    conditioning_embedding_out_channels: embeddingChannels,
    global_pool_conditions: pool,
    addition_embed_type_num_heads: unet.addition_embed_type_num_heads,
  };
}

/**
 * The U-Net config whose encoder half a ControlNet is, for @sdxs/unet's `resolveStages` and `unetConditioning`:
 * no time-embedding activations (ControlNetModel has none), time_embed_dim = 4 · block_out_channels[0].
 *
 * @example
 * const { down, mid, timeEmbedDim } = resolveStages(controlNetUNetConfig(config));
 */
export function controlNetUNetConfig(c: ControlNetConfig): UNet2DConditionConfig {
  return {
    sample_size: null,
    in_channels: c.in_channels,
    out_channels: c.in_channels,
    center_input_sample: false,
    flip_sin_to_cos: c.flip_sin_to_cos,
    freq_shift: c.freq_shift,
    down_block_types: c.down_block_types,
    mid_block_type: c.mid_block_type === 'UNetMidBlock2DCrossAttn' ? c.mid_block_type : null,
    up_block_types: [...c.down_block_types].reverse().map((t) => (t === 'CrossAttnDownBlock2D' ? 'CrossAttnUpBlock2D' : 'UpBlock2D')),
    only_cross_attention: c.only_cross_attention,
    block_out_channels: c.block_out_channels,
    layers_per_block: c.layers_per_block,
    downsample_padding: c.downsample_padding,
    mid_block_scale_factor: c.mid_block_scale_factor,
    dropout: 0,
    act_fn: c.act_fn,
    norm_num_groups: c.norm_num_groups,
    norm_eps: c.norm_eps,
    cross_attention_dim: c.cross_attention_dim,
    transformer_layers_per_block: c.transformer_layers_per_block,
    reverse_transformer_layers_per_block: null,
    encoder_hid_dim: null,
    encoder_hid_dim_type: null,
    attention_head_dim: c.attention_head_dim,
    num_attention_heads: c.num_attention_heads,
    dual_cross_attention: false,
    use_linear_projection: c.use_linear_projection,
    class_embed_type: null,
    addition_embed_type: c.addition_embed_type,
    addition_time_embed_dim: c.addition_time_embed_dim,
    num_class_embeds: null,
    upcast_attention: c.upcast_attention,
    resnet_time_scale_shift: 'default',
    resnet_skip_time_act: false,
    resnet_out_scale_factor: 1,
    time_embedding_type: 'positional',
    time_embedding_dim: null,
    time_embedding_act_fn: null,
    timestep_post_act: null,
    time_cond_proj_dim: null,
    conv_in_kernel: 3,
    conv_out_kernel: 3,
    projection_class_embeddings_input_dim: c.projection_class_embeddings_input_dim,
    attention_type: 'default',
    class_embeddings_concat: false,
    mid_block_only_cross_attention: null,
    cross_attention_norm: null,
    addition_embed_type_num_heads: c.addition_embed_type_num_heads,
  };
}

export interface FromUNetOptions {
  /** `conditioning_embedding_out_channels` (default diffusers' [16, 32, 96, 256]: 8× down to the latent). */
  conditioningEmbeddingOutChannels?: readonly number[];
  conditioningChannels?: number;
}

/**
 * The config.json of diffusers' `ControlNetModel.from_unet(unet)`: the U-Net's shared fields, and its mid block type
 * — or `UNetMidBlock2D` for a U-Net without one (SDXS-512's), since a ControlNet always has a mid block.
 *
 * @example
 * const json = controlNetConfigFromUNet(studentConfig, { conditioningEmbeddingOutChannels: [16, 32, 48, 64] });
 * const config = parseControlNetConfig(json, 'controlnet/config.json');
 */
export function controlNetConfigFromUNet(unet: UNet2DConditionConfig, o: FromUNetOptions = {}): Record<string, unknown> {
  const json: Record<string, unknown> = { _class_name: 'ControlNetModel' };
  const source = unet as unknown as Readonly<Record<string, unknown>>;
  for (const key of SHARED) if (source[key] !== undefined) json[key] = source[key];
  json['mid_block_type'] = unet.mid_block_type ?? 'UNetMidBlock2D';
  json['conditioning_channels'] = o.conditioningChannels ?? OWN_DEFAULTS.conditioning_channels;
  json['conditioning_embedding_out_channels'] = [...(o.conditioningEmbeddingOutChannels ?? OWN_DEFAULTS.conditioning_embedding_out_channels)];
  json['controlnet_conditioning_channel_order'] = 'rgb';
  json['global_pool_conditions'] = false;
  return json;
}
