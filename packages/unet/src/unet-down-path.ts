/**
 * The encoder half of diffusers' `UNet2DConditionModel`: conditioning, conv_in, the down blocks with their skip
 * connections. `unet2DCondition` continues it with the mid and up blocks; a ControlNet is this path (plus its
 * conditioning embedding after conv_in) with zero convolutions; distillation uses it alone as a frozen feature
 * extractor (the SDXS paper's feature matching on the teacher U-Net's encoder).
 */
import { conv2d, GraphError, Mul, Sub, silu, type Params, type Value } from '@sdxs/graph';
import type { BlockContext, CrossAttentionSettings, DownBlockOutput } from './block-context.js';
import type { UNet2DConditionConfig } from './config.js';
import { crossAttnDownBlock2D } from './cross-attn-down-block-2d.js';
import { downBlock2D } from './down-block-2d.js';
import { resolveStages, type ResolvedStages, type StageAttention } from './stages.js';
import { unetConditioning, type ConditioningInputs } from './unet-conditioning.js';

export interface DownPathInputs extends ConditioningInputs {
  /** The (noisy) latents [B, in_channels, H, W]. */
  sample: Value;
  /** [B, T, cross_attention_dim]. */
  encoderHiddenStates: Value;
}

export interface DownPathOptions {
  /** Applied to conv_in's output before the down blocks (a ControlNet adds its conditioning embedding here). */
  afterConvIn?(h: Value): Value;
  /** conv_in's kernel (default the config's `conv_in_kernel`; a ControlNet's is always 3). */
  convInKernel?: number;
  /** Honour `center_input_sample` (default true; a ControlNet does not). */
  centerInput?: boolean;
  /** The model named in errors (default UNet2DConditionModel). */
  op?: string;
}

export interface DownPath {
  stages: ResolvedStages;
  /** The shared block settings (time embedding after SiLU, norm groups). */
  ctx: BlockContext;
  /** Cross-attention settings of a stage, for the blocks after the down path. */
  attn(a: StageAttention): CrossAttentionSettings;
  /** `time_embedding`'s output (diffusers' hook point). */
  timeEmbedding: Value;
  /** The last down block's output. */
  hidden: Value;
  /** Every skip connection (conv_in's output, then each resnet's and downsampler's), in order. */
  skips: Value[];
  /** The channels of each skip. */
  skipChannels: number[];
  /** Each down block's output. */
  downBlocks: Value[];
}

const OP = 'UNet2DConditionModel';

/**
 * Build conditioning, conv_in and the down blocks of `c` under `p` (the U-Net's root).
 *
 * @example
 * const { downBlocks } = unetDownPath(new Params(g, 'teacher'), config, { sample: x0, timestep, encoderHiddenStates: ctx });
 */
export function unetDownPath(p: Params, c: UNet2DConditionConfig, inputs: DownPathInputs, options: DownPathOptions = {}): DownPath {
  const stages = resolveStages(c);
  const boc = c.block_out_channels;
  const n = boc.length;
  const { sample, encoderHiddenStates: context } = inputs;
  const op = options.op ?? OP;
  if (sample.rank !== 4 || sample.shape[1] !== c.in_channels) {
    throw new GraphError(op, `sample must be [batch, ${c.in_channels}, height, width], got [${sample.shape.join(', ')}]`);
  }
  if (context.rank !== 3) throw new GraphError(op, `encoder_hidden_states must be [batch, tokens, dim], got [${context.shape.join(', ')}]`);

  const cond = unetConditioning(p, c, stages.timeEmbedDim, inputs);
  // Every resnet applies SiLU to the same embedding: compute it once.
  const ctx: BlockContext = { tembAct: silu(cond.emb), tembChannels: stages.timeEmbedDim, groups: c.norm_num_groups, eps: c.norm_eps };
  const attn = (a: StageAttention): CrossAttentionSettings => ({
    context,
    heads: a.heads,
    crossAttentionDim: a.crossAttentionDim,
    transformerLayers: a.transformerLayers,
    useLinearProjection: c.use_linear_projection,
    onlyCrossAttention: a.onlyCrossAttention,
    upcastAttention: c.upcast_attention,
  });

  const kernel = options.convInKernel ?? c.conv_in_kernel;
  let h = (options.centerInput ?? true) && c.center_input_sample ? Sub(Mul(sample, 2), 1) : sample;
  h = p.child('conv_in').scoped(() => conv2d(p.child('conv_in'), h, c.in_channels, boc[0]!, kernel, { padding: Math.floor((kernel - 1) / 2) }));
  if (options.afterConvIn) h = options.afterConvIn(h);

  const skips: Value[] = [h];
  const skipChannels: number[] = [boc[0]!];
  const downBlocks: Value[] = [];
  const blocks = p.child('down_blocks');
  c.down_block_types.forEach((type, i) => {
    const stage = stages.down[i]!;
    const o = { inChannels: boc[Math.max(i - 1, 0)]!, outChannels: boc[i]!, layers: stage.layers, addDownsample: i < n - 1, downsamplePadding: c.downsample_padding };
    const out: DownBlockOutput = type === 'CrossAttnDownBlock2D' ? crossAttnDownBlock2D(blocks.child(i), h, ctx, o, attn(stage.attention)) : downBlock2D(blocks.child(i), h, ctx, o);
    h = out.hidden;
    skips.push(...out.residuals);
    skipChannels.push(...out.residuals.map(() => boc[i]!));
    downBlocks.push(h);
  });
  return { stages, ctx, attn, timeEmbedding: cond.timeEmbedding, hidden: h, skips, skipChannels, downBlocks };
}
