/**
 * diffusers' `ControlNetModel.forward` (diffusers/models/controlnets/controlnet.py) as a graph: the encoder half of
 * a U-Net (conv_in, time embedding, down blocks, mid block — @sdxs/unet's builders, under the same checkpoint keys)
 * with the conditioning image's embedding added after conv_in, and a 1×1 zero convolution on every skip connection
 * and on the mid block's output. The results are the residuals a U-Net adds to its own skips and mid block.
 */
import { Add, Cast, conv2d, Gather, GraphError, Mul, ReduceMean, type Params, type Value } from '@sdxs/graph';
import { midBlock2DCrossAttn, unetDownPath } from '@sdxs/unet';
import { controlNetConditioningEmbedding } from './conditioning-embedding.js';
import { controlNetUNetConfig, type ControlNetConfig } from './config.js';
import { midBlock2D } from './mid-block-2d.js';

export interface ControlNetInputs {
  /** The noisy latents [B, in_channels, h, w] (what the U-Net gets). */
  sample: Value;
  /** float32 [] (one timestep for the batch) or [B]. */
  timestep: Value;
  /** [B, T, cross_attention_dim]. */
  encoderHiddenStates: Value;
  /** The control image [B, conditioning_channels, H, W] in [0, 1], RGB; H = h · 2^(len(conditioning_embedding_out_channels) − 1). */
  controlnetCond: Value;
  /** Multiplies every residual (default 1): a number, or a float32 [] input to change it without rebuilding. */
  conditioningScale?: number | Value;
  /** diffusers' `guess_mode`: residuals scaled from 0.1 (first skip) to 1 (mid block), logarithmically. */
  guessMode?: boolean;
  /** SDXL `added_cond_kwargs.text_embeds` [B, n] (addition_embed_type "text_time" only). */
  textEmbeds?: Value;
  /** SDXL `added_cond_kwargs.time_ids` [B, ids], float32. */
  timeIds?: Value;
}

export interface ControlNetOutputs {
  /** `down_block_res_samples`: one per U-Net skip connection (conv_in's, then each resnet's and downsampler's). */
  downResiduals: Value[];
  /** `mid_block_res_sample`: added to the U-Net's mid block output (or its last down block's when it has none). */
  midResidual: Value;
}

const OP = 'ControlNetModel';

/**
 * `torch.logspace(-1, 0, n)` in float32 as PyTorch's CPU kernel computes it: 10^(start + step·i) in double for
 * the first half, 10^(end − step·(n − 1 − i)) for the rest, then rounded to float32.
 *
 * @example
 * guessModeScales(3); // [0.1, 0.31622776…, 1] as float32 values
 */
export function guessModeScales(n: number): number[] {
  const step = n > 1 ? 1 / (n - 1) : 0;
  const half = Math.floor(n / 2);
  return Array.from({ length: n }, (_, i) => Math.fround(10 ** (i < half ? -1 + step * i : 0 - step * (n - 1 - i))));
}

/** Output size of a stride-2 3×3 convolution with padding 1. */
function halved(d: number): number {
  return Math.floor((d - 1) / 2) + 1;
}

/**
 * Add the ControlNet to `inputs`' graph, parameters under `p` by their checkpoint keys (`new Params(g)` for a
 * controlnet/ safetensors file; a prefix lets it share a graph with the U-Net). Wire the result into
 * `unet2DCondition` as `downBlockAdditionalResiduals` / `midBlockAdditionalResidual`, or name them as
 * `buildControlNetGraph` does for a separate session.
 *
 * @example
 * const { downResiduals, midResidual } = controlNetModel(new Params(g, 'controlnet'), config, { sample, timestep, encoderHiddenStates, controlnetCond, conditioningScale: 0.8 });
 * const { sample: eps } = unet2DCondition(new Params(g, 'unet'), unetConfig, { sample, timestep, encoderHiddenStates, downBlockAdditionalResiduals: downResiduals, midBlockAdditionalResidual: midResidual });
 */
export function controlNetModel(p: Params, c: ControlNetConfig, inputs: ControlNetInputs): ControlNetOutputs {
  const u = controlNetUNetConfig(c);
  const boc = c.block_out_channels;
  const n = boc.length;
  const { sample } = inputs;
  const toDType = (v: Value) => (v.dtype === p.dtype ? v : Cast(v, p.dtype));
  if (sample.rank !== 4 || sample.shape[1] !== c.in_channels) {
    throw new GraphError(OP, `sample must be [batch, ${c.in_channels}, height, width], got [${sample.shape.join(', ')}]`);
  }
  let cond = inputs.controlnetCond;
  if (cond.rank !== 4 || cond.shape[1] !== c.conditioning_channels) {
    throw new GraphError(OP, `controlnet_cond must be [batch, ${c.conditioning_channels}, height, width], got [${cond.shape.join(', ')}]`);
  }
  const steps = c.conditioning_embedding_out_channels.length - 1;
  for (const axis of [2, 3]) {
    const [d, want] = [cond.shape[axis], sample.shape[axis]];
    if (typeof d !== 'number' || typeof want !== 'number') continue;
    let out = d;
    for (let s = 0; s < steps; s++) out = halved(out);
    if (out !== want) {
      throw new GraphError(OP, `controlnet_cond is [${cond.shape.join(', ')}]: its embedding is ${out} ${axis === 2 ? 'high' : 'wide'}, the sample ${want}; give a control image ${2 ** steps}× the latent size`);
    }
  }

  // controlnet_conditioning_channel_order "bgr": torch.flip(controlnet_cond, dims=[1]).
  if (c.controlnet_conditioning_channel_order === 'bgr') cond = Gather(cond, [...Array(c.conditioning_channels).keys()].reverse(), 1);

  // The U-Net's down path, with the conditioning image's embedding added after conv_in (whose kernel is always 3).
  const path = unetDownPath(p, u, inputs, {
    convInKernel: 3,
    centerInput: false,
    op: OP,
    afterConvIn: (h) => Add(h, controlNetConditioningEmbedding(p.child('controlnet_cond_embedding'), toDType(cond), c.conditioning_channels, c.conditioning_embedding_out_channels, boc[0]!)),
  });
  const { stages, ctx, attn, skips, skipChannels: channels } = path;
  let h = path.hidden;

  const midChannels = boc[n - 1]!;
  const midOptions = { channels: midChannels, outputScaleFactor: c.mid_block_scale_factor };
  h =
    c.mid_block_type === 'UNetMidBlock2DCrossAttn'
      ? midBlock2DCrossAttn(p.child('mid_block'), h, ctx, midOptions, attn(stages.mid))
      : midBlock2D(p.child('mid_block'), h, ctx, midChannels, c.mid_block_scale_factor);

  const zeroConvs = p.child('controlnet_down_blocks');
  let down = skips.map((s, i) => zeroConvs.child(i).scoped(() => conv2d(zeroConvs.child(i), s, channels[i]!, channels[i]!, 1)));
  let mid = p.child('controlnet_mid_block').scoped(() => conv2d(p.child('controlnet_mid_block'), h, midChannels, midChannels, 1));

  // Scaling, in diffusers' float32 order: (scales · conditioning_scale) first, then the residual times that.
  const scale = inputs.conditioningScale ?? 1;
  if (typeof scale !== 'number' && (scale.rank !== 0 || scale.dtype !== 'float32')) {
    throw new GraphError(OP, `conditioning_scale must be a float32 scalar [], got ${scale.dtype} [${scale.shape.join(', ')}]`);
  }
  const times = (v: Value, s: number | Value): Value => (s === 1 ? v : Mul(v, typeof s === 'number' ? s : toDType(s)));
  if (inputs.guessMode && !c.global_pool_conditions) {
    const scales = guessModeScales(down.length + 1);
    const scaled = scales.map((s) => (typeof scale === 'number' ? Math.fround(s * Math.fround(scale)) : Mul(scale, s)));
    down = down.map((r, i) => times(r, scaled[i]!));
    mid = times(mid, scaled[scaled.length - 1]!);
  } else {
    down = down.map((r) => times(r, scale));
    mid = times(mid, scale);
  }
  if (c.global_pool_conditions) {
    down = down.map((r) => ReduceMean(r, [2, 3]));
    mid = ReduceMean(mid, [2, 3]);
  }
  return { downResiduals: down, midResidual: mid };
}
