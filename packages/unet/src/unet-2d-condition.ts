/**
 * diffusers' `UNet2DConditionModel` (diffusers/models/unets/unet_2d_condition.py), forward pass as a graph: conv_in,
 * down blocks (collecting skips), the mid block (or none, as in SDXS-512), up blocks, norm → SiLU → conv_out, with
 * ControlNet residuals and taps on every block's output.
 */
import { Add, conv2d, GraphError, type Params, type Value } from '@sdxs/graph';
import type { UNet2DConditionConfig } from './config.js';
import { crossAttnUpBlock2D } from './cross-attn-up-block-2d.js';
import { groupNorm2d } from './layers.js';
import { midBlock2DCrossAttn } from './mid-block-2d-cross-attn.js';
import { unetDownPath } from './unet-down-path.js';
import { upBlock2D } from './up-block-2d.js';

export interface UNetInputs {
  /** The noisy latents [B, in_channels, H, W]. */
  sample: Value;
  /** float32 [] (one timestep for the whole batch) or [B]. */
  timestep: Value;
  /** [B, T, cross_attention_dim]. */
  encoderHiddenStates: Value;
  /** SDXL `added_cond_kwargs.text_embeds` [B, n] (addition_embed_type "text_time" only). */
  textEmbeds?: Value;
  /** SDXL `added_cond_kwargs.time_ids` [B, ids], float32. */
  timeIds?: Value;
  /** ControlNet: one per skip connection (conv_in's output, then each down block's), added to it. Give with the mid residual. */
  downBlockAdditionalResiduals?: readonly Value[];
  /** ControlNet: added to the mid block's output, or to the last down block's output when there is no mid block. */
  midBlockAdditionalResidual?: Value;
}

/** Block outputs, as diffusers' forward hooks see them (before ControlNet residuals are added). */
export interface UNetTaps {
  /** `time_embedding`'s output [B or 1, time_embed_dim]. */
  timeEmbedding: Value;
  /** Each down block's hidden states (its first return value). */
  downBlocks: Value[];
  midBlock?: Value;
  upBlocks: Value[];
}

export interface UNetOutputs {
  /** The prediction (ε or v, per the scheduler's prediction_type) [B, out_channels, H, W]. */
  sample: Value;
  taps: UNetTaps;
}

const OP = 'UNet2DConditionModel';

function shapesMatch(a: Value, b: Value): boolean {
  return a.rank === b.rank && a.shape.every((d, i) => typeof d !== 'number' || typeof b.shape[i] !== 'number' || d === b.shape[i]);
}

/**
 * Add the U-Net to `inputs`' graph, parameters under `p` by their checkpoint keys (`p` is the U-Net's root, e.g.
 * `new Params(g)` for a unet/ safetensors file). Several U-Nets can share a graph under different roots.
 *
 * @example
 * const { sample } = unet2DCondition(new Params(g), config, { sample: x, timestep: t, encoderHiddenStates: ctx });
 */
export function unet2DCondition(p: Params, c: UNet2DConditionConfig, inputs: UNetInputs): UNetOutputs {
  const n = c.block_out_channels.length;
  const boc = c.block_out_channels;
  const down = inputs.downBlockAdditionalResiduals;
  const mid = inputs.midBlockAdditionalResidual;
  if ((down === undefined) !== (mid === undefined)) {
    // diffusers treats down residuals without a mid residual as a (deprecated) T2I-Adapter, which sdxs does not build.
    throw new GraphError(OP, 'ControlNet residuals come as a pair: give both downBlockAdditionalResiduals and midBlockAdditionalResidual');
  }
  const { sample } = inputs;
  // Down: every resnet/downsampler output is a skip connection for the up path.
  const path = unetDownPath(p, c, inputs);
  const { stages, ctx, attn } = path;
  let h = path.hidden;
  let skips = path.skips;
  const taps: UNetTaps = { timeEmbedding: path.timeEmbedding, downBlocks: path.downBlocks, upBlocks: [] };

  if (down) {
    if (down.length !== skips.length) throw new GraphError(OP, `this U-Net has ${skips.length} skip connections, got ${down.length} down block residuals`);
    skips = skips.map((s, j) => {
      const r = down[j]!;
      if (!shapesMatch(r, s)) throw new GraphError(OP, `down block residual ${j} is [${r.shape.join(', ')}], its skip connection [${s.shape.join(', ')}]`);
      return Add(s, r);
    });
  }

  if (c.mid_block_type === 'UNetMidBlock2DCrossAttn') {
    h = midBlock2DCrossAttn(p.child('mid_block'), h, ctx, { channels: boc[n - 1]!, outputScaleFactor: c.mid_block_scale_factor }, attn(stages.mid));
    taps.midBlock = h;
  }
  if (mid) {
    if (!shapesMatch(mid, h)) throw new GraphError(OP, `the mid block residual is [${mid.shape.join(', ')}], the ${c.mid_block_type ? 'mid block' : 'last down block'} output [${h.shape.join(', ')}]`);
    h = Add(h, mid);
  }

  // Up. When the latent is not a multiple of the total downsampling, diffusers upsamples to each next skip's size.
  const factor = 2 ** (n - 1);
  const spatial = sample.shape.slice(2);
  const forwardSize = spatial.every((d) => typeof d === 'number') && spatial.some((d) => Number(d) % factor !== 0);
  const reversed = [...boc].reverse();
  const upBlocks = p.child('up_blocks');
  c.up_block_types.forEach((type, i) => {
    const stage = stages.up[i]!;
    const mine = skips.slice(skips.length - stage.layers);
    skips = skips.slice(0, skips.length - stage.layers);
    const last = i === n - 1;
    const next = skips[skips.length - 1];
    const upsampleSize = !last && forwardSize && next ? ([Number(next.shape[2]), Number(next.shape[3])] as const) : undefined;
    const o = {
      inChannels: reversed[Math.min(i + 1, n - 1)]!,
      prevOutputChannels: reversed[Math.max(i - 1, 0)]!,
      outChannels: reversed[i]!,
      layers: stage.layers,
      addUpsample: !last,
      upsampleSize,
    };
    h = type === 'CrossAttnUpBlock2D' ? crossAttnUpBlock2D(upBlocks.child(i), h, mine, ctx, o, attn(stage.attention)) : upBlock2D(upBlocks.child(i), h, mine, ctx, o);
    taps.upBlocks.push(h);
  });

  h = p.child('conv_norm_out').scoped(() => groupNorm2d(p.child('conv_norm_out'), h, boc[0]!, c.norm_num_groups, c.norm_eps, true));
  const out = p.child('conv_out').scoped(() => conv2d(p.child('conv_out'), h, boc[0]!, c.out_channels, c.conv_out_kernel, { padding: Math.floor((c.conv_out_kernel - 1) / 2) }));
  return { sample: out, taps };
}
