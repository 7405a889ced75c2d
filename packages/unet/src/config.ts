/**
 * The `config.json` of a diffusers `UNet2DConditionModel` (diffusers/models/unets/unet_2d_condition.py), field
 * for field, and its validation. What sdxs does not implement is refused here, by name, rather than built wrong.
 */

/** Down blocks sdxs builds (diffusers' `get_down_block` names). */
export type DownBlockType = 'DownBlock2D' | 'CrossAttnDownBlock2D';
/** Up blocks sdxs builds (diffusers' `get_up_block` names). */
export type UpBlockType = 'UpBlock2D' | 'CrossAttnUpBlock2D';
/** Mid blocks sdxs builds; `null` is a U-Net without one (SDXS-512). */
export type MidBlockType = 'UNetMidBlock2DCrossAttn';
/** `torch.nn.SiLU` under either of diffusers' names. */
export type SiluName = 'silu' | 'swish';

/** Transformer depth of one stage: one count for every layer of the stage, or one per layer. */
export type StageTransformerLayers = number | readonly number[];

/**
 * A `UNet2DConditionModel` config.json, with diffusers' defaults filled in for fields an older config omits.
 * Value types are narrowed to what sdxs implements; the TSDoc says where a field has no effect in diffusers
 * either (it is read only by block types sdxs refuses).
 */
export interface UNet2DConditionConfig {
  sample_size: number | readonly number[] | null;
  in_channels: number;
  out_channels: number;
  center_input_sample: boolean;
  flip_sin_to_cos: boolean;
  freq_shift: number;
  down_block_types: readonly DownBlockType[];
  mid_block_type: MidBlockType | null;
  up_block_types: readonly UpBlockType[];
  only_cross_attention: boolean | readonly boolean[];
  block_out_channels: readonly number[];
  layers_per_block: number | readonly number[];
  /** 1 (SD): the stride-2 conv pads all sides; 0: pads right and bottom by one first. */
  downsample_padding: number;
  /** The mid block's `output_scale_factor` (its resnets divide by it). */
  mid_block_scale_factor: number;
  /** Training-time dropout; these graphs are evaluation-mode, where dropout is the identity. */
  dropout: number;
  act_fn: SiluName;
  norm_num_groups: number;
  norm_eps: number;
  cross_attention_dim: number | readonly number[];
  transformer_layers_per_block: number | readonly StageTransformerLayers[];
  reverse_transformer_layers_per_block: readonly StageTransformerLayers[] | null;
  encoder_hid_dim: null;
  encoder_hid_dim_type: null;
  /** Despite the name, the number of heads when `num_attention_heads` is null (diffusers issue #2011). */
  attention_head_dim: number | readonly number[];
  /**
   * The head count when set. diffusers' UNet2DConditionModel refuses a non-null value (so its configs carry null);
   * sdxs reads it as `num_attention_heads or attention_head_dim`, the resolution diffusers' constructor performs.
   */
  num_attention_heads: number | readonly number[] | null;
  dual_cross_attention: false;
  use_linear_projection: boolean;
  class_embed_type: null;
  addition_embed_type: 'text_time' | null;
  addition_time_embed_dim: number | null;
  num_class_embeds: null;
  /** Attention scores in float32; a no-op for float32 graphs. */
  upcast_attention: boolean;
  resnet_time_scale_shift: 'default';
  /** Read only by ResnetDownsampleBlock2D / SimpleCrossAttn blocks in diffusers: no effect here. */
  resnet_skip_time_act: boolean;
  /** Read only by ResnetDownsampleBlock2D / SimpleCrossAttn blocks in diffusers: no effect here. */
  resnet_out_scale_factor: number;
  time_embedding_type: 'positional';
  time_embedding_dim: number | null;
  time_embedding_act_fn: SiluName | null;
  timestep_post_act: SiluName | null;
  time_cond_proj_dim: null;
  conv_in_kernel: number;
  conv_out_kernel: number;
  projection_class_embeddings_input_dim: number | null;
  attention_type: 'default';
  class_embeddings_concat: false;
  /** Read only by UNetMidBlock2DSimpleCrossAttn in diffusers: no effect here. */
  mid_block_only_cross_attention: boolean | null;
  /** Read only by SimpleCrossAttn blocks in diffusers: no effect here. */
  cross_attention_norm: 'layer_norm' | 'group_norm' | null;
  /** Read only for `addition_embed_type: 'text'` in diffusers: no effect here. */
  addition_embed_type_num_heads: number;
}

/** A config.json field that is missing, mistyped or asks for something sdxs does not implement. */
export class UNetConfigError extends Error {
  override readonly name = 'UNetConfigError';
  readonly file: string;
  readonly field: string;

  constructor(file: string, field: string, message: string) {
    super(`${file}: ${field}: ${message}`);
    this.file = file;
    this.field = field;
  }
}

/**
 * Fields every UNet2DConditionModel config.json has carried since diffusers 0.6 (SD 1.5's is one of those): a
 * config without them is not a U-Net config. Later additions default as diffusers' `__init__` does.
 */
const REQUIRED = new Set([
  'sample_size', 'in_channels', 'out_channels', 'center_input_sample', 'flip_sin_to_cos', 'freq_shift', 'down_block_types',
  'up_block_types', 'block_out_channels', 'layers_per_block', 'downsample_padding', 'mid_block_scale_factor', 'act_fn',
  'norm_num_groups', 'norm_eps', 'cross_attention_dim', 'attention_head_dim',
]);

/** diffusers' `UNet2DConditionModel.__init__` defaults, for fields newer than REQUIRED. */
const DEFAULTS: Readonly<Record<string, unknown>> = {
  mid_block_type: 'UNetMidBlock2DCrossAttn',
  only_cross_attention: false,
  dropout: 0,
  transformer_layers_per_block: 1,
  reverse_transformer_layers_per_block: null,
  encoder_hid_dim: null,
  encoder_hid_dim_type: null,
  num_attention_heads: null,
  dual_cross_attention: false,
  use_linear_projection: false,
  class_embed_type: null,
  addition_embed_type: null,
  addition_time_embed_dim: null,
  num_class_embeds: null,
  upcast_attention: false,
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
  projection_class_embeddings_input_dim: null,
  attention_type: 'default',
  class_embeddings_concat: false,
  mid_block_only_cross_attention: null,
  cross_attention_norm: null,
  addition_embed_type_num_heads: 64,
};

type Json = Readonly<Record<string, unknown>>;

/** Reads one field of the raw object, applying the default, and reports problems by field name. */
class Reader {
  constructor(
    private readonly raw: Json,
    readonly file: string,
  ) {}

  fail(field: string, message: string): never {
    throw new UNetConfigError(this.file, field, message);
  }

  get(field: string): unknown {
    if (Object.hasOwn(this.raw, field)) return this.raw[field];
    if (REQUIRED.has(field)) this.fail(field, 'is missing');
    return DEFAULTS[field];
  }

  bool(field: string): boolean {
    const v = this.get(field);
    return typeof v === 'boolean' ? v : this.fail(field, `must be true or false, got ${show(v)}`);
  }

  num(field: string): number {
    const v = this.get(field);
    return typeof v === 'number' && Number.isFinite(v) ? v : this.fail(field, `must be a number, got ${show(v)}`);
  }

  /** A positive integer (`min` 1) or a non-negative one (`min` 0). */
  int(field: string, min = 1): number {
    return checkInt(this, field, this.get(field), min);
  }

  intOrNull(field: string, min = 1): number | null {
    const v = this.get(field);
    return v === null ? null : checkInt(this, field, v, min);
  }

  /** An int or a list of ints, one per stage. */
  intOrList(field: string, stages: number): number | number[] {
    const v = this.get(field);
    if (Array.isArray(v)) return checkList(this, field, v, stages).map((x, i) => checkInt(this, `${field}[${i}]`, x, 1));
    return checkInt(this, field, v, 1);
  }

  /** A field sdxs supports with exactly the given values. */
  oneOf<T extends string | number | boolean | null>(field: string, allowed: readonly T[], why: string): T {
    const v = this.get(field);
    const hit = allowed.find((a) => a === v);
    if (hit === undefined) this.fail(field, `${show(v)} is not supported (${why}); sdxs accepts ${allowed.map(show).join(' or ')}`);
    return hit;
  }
}

function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

function checkInt(r: Reader, field: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) r.fail(field, `must be an integer, got ${show(v)}`);
  if (v < min) r.fail(field, `must be ${min === 1 ? 'positive' : `at least ${min}`}, got ${v}`);
  return v;
}

function checkList(r: Reader, field: string, v: readonly unknown[], length: number): readonly unknown[] {
  if (v.length !== length) r.fail(field, `has ${v.length} entries; block_out_channels has ${length} stages`);
  return v;
}

/** One stage's transformer depth: an int, or a list of ints (one per layer). */
function stageLayers(r: Reader, field: string, v: unknown): StageTransformerLayers {
  if (Array.isArray(v)) return v.map((x, j) => checkInt(r, `${field}[${j}]`, x, 1));
  return checkInt(r, field, v, 1);
}

const KNOWN = new Set([...REQUIRED, ...Object.keys(DEFAULTS)]);

/**
 * Validate a parsed `unet/config.json` and fill in diffusers' defaults. Throws one {@link UNetConfigError} naming
 * the field and `file` for the first problem: a required field missing, a value of the wrong type, an unknown field,
 * or a feature sdxs does not implement (class embeddings, encoder projections, LCM's `time_cond_proj_dim`, GLIGEN,
 * scale-shift resnets, dual cross-attention, other block types).
 *
 * @example
 * const config = parseUNetConfig(JSON.parse(await readFile('unet/config.json', 'utf8')), 'unet/config.json');
 */
export function parseUNetConfig(json: unknown, file: string): UNet2DConditionConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new UNetConfigError(file, '(root)', 'is not a JSON object');
  const raw = json as Json;
  // Typed explicitly so that calls to the `never`-returning `r.fail` narrow types (TS control-flow rule).
  const r: Reader = new Reader(raw, file);
  for (const key of Object.keys(raw)) {
    if (key.startsWith('_')) continue;
    if (!KNOWN.has(key)) r.fail(key, 'is not a UNet2DConditionModel config field');
  }
  const className = raw['_class_name'];
  if (className !== undefined && className !== 'UNet2DConditionModel') r.fail('_class_name', `${show(className)} is not UNet2DConditionModel`);

  const blockOut = r.get('block_out_channels');
  if (!Array.isArray(blockOut) || blockOut.length === 0) r.fail('block_out_channels', `must be a non-empty list of integers, got ${show(blockOut)}`);
  const block_out_channels = blockOut.map((c, i) => checkInt(r, `block_out_channels[${i}]`, c, 1));
  const stages = block_out_channels.length;

  const blockTypes = <T extends string>(field: string, allowed: readonly T[]): T[] => {
    const v = r.get(field);
    if (!Array.isArray(v)) r.fail(field, `must be a list, got ${show(v)}`);
    return checkList(r, field, v, stages).map((t, i) => {
      const hit = allowed.find((a) => a === t);
      if (hit === undefined) r.fail(`${field}[${i}]`, `${show(t)} is not supported; sdxs builds ${allowed.join(' and ')}`);
      return hit;
    });
  };
  const down_block_types = blockTypes<DownBlockType>('down_block_types', ['DownBlock2D', 'CrossAttnDownBlock2D']);
  const up_block_types = blockTypes<UpBlockType>('up_block_types', ['UpBlock2D', 'CrossAttnUpBlock2D']);
  const mid_block_type = r.oneOf<MidBlockType | null>('mid_block_type', ['UNetMidBlock2DCrossAttn', null], 'other mid blocks are not implemented');

  const sampleSize = r.get('sample_size');
  let sample_size: number | number[] | null;
  if (sampleSize === null) sample_size = null;
  else if (Array.isArray(sampleSize)) sample_size = sampleSize.map((d, i) => checkInt(r, `sample_size[${i}]`, d, 1));
  else sample_size = checkInt(r, 'sample_size', sampleSize, 1);

  const onlyCross = r.get('only_cross_attention');
  let only_cross_attention: boolean | boolean[];
  if (Array.isArray(onlyCross)) {
    only_cross_attention = checkList(r, 'only_cross_attention', onlyCross, stages).map((b, i) =>
      typeof b === 'boolean' ? b : r.fail(`only_cross_attention[${i}]`, `must be true or false, got ${show(b)}`),
    );
  } else only_cross_attention = r.bool('only_cross_attention');

  const tlpb = r.get('transformer_layers_per_block');
  const transformer_layers_per_block = Array.isArray(tlpb)
    ? checkList(r, 'transformer_layers_per_block', tlpb, stages).map((v, i) => stageLayers(r, `transformer_layers_per_block[${i}]`, v))
    : checkInt(r, 'transformer_layers_per_block', tlpb, 1);
  const rev = r.get('reverse_transformer_layers_per_block');
  let reverse_transformer_layers_per_block: StageTransformerLayers[] | null = null;
  if (rev !== null) {
    if (!Array.isArray(rev)) r.fail('reverse_transformer_layers_per_block', `must be null or a list, got ${show(rev)}`);
    reverse_transformer_layers_per_block = checkList(r, 'reverse_transformer_layers_per_block', rev, stages).map((v, i) =>
      stageLayers(r, `reverse_transformer_layers_per_block[${i}]`, v),
    );
  } else if (Array.isArray(transformer_layers_per_block) && transformer_layers_per_block.some(Array.isArray)) {
    // diffusers' _check_config: per-layer depths make an asymmetric U-Net, whose up path must be given.
    r.fail('reverse_transformer_layers_per_block', 'is required when transformer_layers_per_block lists per-layer depths');
  }

  const heads = r.get('num_attention_heads');
  const num_attention_heads = heads === null ? null : r.intOrList('num_attention_heads', stages);
  const act_fn = r.oneOf<SiluName>('act_fn', ['silu', 'swish'], 'only SiLU activations are implemented');
  const silu = (field: string) => r.oneOf<SiluName | null>(field, [null, 'silu', 'swish'], 'only SiLU activations are implemented');
  const cross = r.get('cross_attention_norm');
  const cross_attention_norm = cross === null || cross === 'layer_norm' || cross === 'group_norm' ? cross : r.fail('cross_attention_norm', `must be null, "layer_norm" or "group_norm", got ${show(cross)}`);
  const midOnly = r.get('mid_block_only_cross_attention');
  const mid_block_only_cross_attention = midOnly === null ? null : r.bool('mid_block_only_cross_attention');

  const config: UNet2DConditionConfig = {
    sample_size,
    in_channels: r.int('in_channels'),
    out_channels: r.int('out_channels'),
    center_input_sample: r.bool('center_input_sample'),
    flip_sin_to_cos: r.bool('flip_sin_to_cos'),
    freq_shift: r.num('freq_shift'),
    down_block_types,
    mid_block_type,
    up_block_types,
    only_cross_attention,
    block_out_channels,
    layers_per_block: r.intOrList('layers_per_block', stages),
    downsample_padding: r.int('downsample_padding', 0),
    mid_block_scale_factor: r.num('mid_block_scale_factor'),
    dropout: r.num('dropout'),
    act_fn,
    norm_num_groups: r.int('norm_num_groups'),
    norm_eps: r.num('norm_eps'),
    cross_attention_dim: r.intOrList('cross_attention_dim', stages),
    transformer_layers_per_block,
    reverse_transformer_layers_per_block,
    encoder_hid_dim: r.oneOf('encoder_hid_dim', [null], 'encoder_hid_proj is not implemented'),
    encoder_hid_dim_type: r.oneOf('encoder_hid_dim_type', [null], 'encoder_hid_proj is not implemented'),
    attention_head_dim: r.intOrList('attention_head_dim', stages),
    num_attention_heads,
    dual_cross_attention: r.oneOf('dual_cross_attention', [false], 'DualTransformer2DModel is not implemented'),
    use_linear_projection: r.bool('use_linear_projection'),
    class_embed_type: r.oneOf('class_embed_type', [null], 'class embeddings are not implemented'),
    addition_embed_type: r.oneOf<'text_time' | null>('addition_embed_type', [null, 'text_time'], 'only SDXL-style text_time conditioning is implemented'),
    addition_time_embed_dim: r.intOrNull('addition_time_embed_dim'),
    num_class_embeds: r.oneOf('num_class_embeds', [null], 'class embeddings are not implemented'),
    upcast_attention: r.bool('upcast_attention'),
    resnet_time_scale_shift: r.oneOf('resnet_time_scale_shift', ['default'], 'scale-shift time conditioning is not implemented'),
    resnet_skip_time_act: r.bool('resnet_skip_time_act'),
    resnet_out_scale_factor: r.num('resnet_out_scale_factor'),
    time_embedding_type: r.oneOf('time_embedding_type', ['positional'], 'Fourier time embeddings are not implemented'),
    time_embedding_dim: r.intOrNull('time_embedding_dim'),
    time_embedding_act_fn: silu('time_embedding_act_fn'),
    timestep_post_act: silu('timestep_post_act'),
    time_cond_proj_dim: r.oneOf('time_cond_proj_dim', [null], 'timestep_cond (LCM guidance embedding) is not implemented'),
    conv_in_kernel: r.int('conv_in_kernel'),
    conv_out_kernel: r.int('conv_out_kernel'),
    projection_class_embeddings_input_dim: r.intOrNull('projection_class_embeddings_input_dim'),
    attention_type: r.oneOf('attention_type', ['default'], 'GLIGEN gated attention is not implemented'),
    class_embeddings_concat: r.oneOf('class_embeddings_concat', [false], 'class embeddings are not implemented'),
    mid_block_only_cross_attention,
    cross_attention_norm,
    addition_embed_type_num_heads: r.int('addition_embed_type_num_heads'),
  };
  checkConsistency(r, config);
  return config;
}

/** Cross-field rules: what diffusers' constructor would refuse, or would build into a model that cannot run. */
function checkConsistency(r: Reader, c: UNet2DConditionConfig): void {
  if (c.norm_eps <= 0) r.fail('norm_eps', `must be positive, got ${c.norm_eps}`);
  if (c.mid_block_scale_factor === 0) r.fail('mid_block_scale_factor', 'must not be 0 (the mid block divides by it)');
  if (c.dropout < 0 || c.dropout >= 1) r.fail('dropout', `must be in [0, 1), got ${c.dropout}`);
  c.block_out_channels.forEach((ch, i) => {
    if (ch % c.norm_num_groups !== 0) r.fail('norm_num_groups', `${c.norm_num_groups} groups do not divide block_out_channels[${i}] = ${ch}`);
  });
  if (c.addition_embed_type === 'text_time') {
    if (c.addition_time_embed_dim === null) r.fail('addition_time_embed_dim', 'is required by addition_embed_type "text_time"');
    if (c.projection_class_embeddings_input_dim === null) r.fail('projection_class_embeddings_input_dim', 'is required by addition_embed_type "text_time"');
  }
  const n = c.block_out_channels.length;
  const layers = (i: number) => (typeof c.layers_per_block === 'number' ? c.layers_per_block : c.layers_per_block[i]!);
  const depthLists = (field: string, v: UNet2DConditionConfig['reverse_transformer_layers_per_block'] | number, want: (i: number) => number) => {
    if (typeof v === 'number' || v === null) return;
    v.forEach((s, i) => {
      if (typeof s !== 'number' && s.length !== want(i)) r.fail(`${field}[${i}]`, `lists ${s.length} depths for a block of ${want(i)} layers`);
    });
  };
  depthLists('transformer_layers_per_block', c.transformer_layers_per_block, layers);
  depthLists('reverse_transformer_layers_per_block', c.reverse_transformer_layers_per_block, (i) => layers(n - 1 - i) + 1);
  const heads = c.num_attention_heads ?? c.attention_head_dim;
  const field = c.num_attention_heads === null ? 'attention_head_dim' : 'num_attention_heads';
  c.block_out_channels.forEach((ch, i) => {
    const h = typeof heads === 'number' ? heads : heads[i]!;
    const usesAttention = c.down_block_types[i] === 'CrossAttnDownBlock2D' || c.up_block_types[c.block_out_channels.length - 1 - i] === 'CrossAttnUpBlock2D';
    const midHere = i === n - 1 && c.mid_block_type !== null;
    if ((usesAttention || midHere) && h > ch) r.fail(field, `${h} heads (stage ${i}; diffusers reads this field as the head count) exceed the stage's ${ch} channels`);
  });
}
