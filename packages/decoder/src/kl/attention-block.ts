// diffusers.models.attention_processor.Attention as UNetMidBlock2D builds it for the VAE
// (`_from_deprecated_attn_block=True`, `residual_connection=True`, group norm, AttnProcessor2_0).
import { Add, Div, Reshape, Transpose, attention, check, groupNorm, linear, type Params, type Value } from '@sdxs/graph';

export interface AttentionBlockOptions {
  channels: number;
  groups: number;
  eps: number;
  /** Channels per head (the VAE passes its width: one head). */
  headDim: number;
  /** The residual sum is divided by this (diffusers' `rescale_output_factor`; 1 in the VAE). */
  rescaleOutputFactor?: number;
}

/**
 * Spatial self-attention: group_norm, then every pixel attends to every other one — x [N, C, H, W] is viewed as
 * N sequences of H·W tokens of width C, projected by `to_q`/`to_k`/`to_v`, attended with C/headDim heads,
 * projected by `to_out.0` and added to the input. H and W must be known when the graph is built, to fold the
 * tokens back into an image.
 *
 * @example
 * const h = attentionBlock(mid.child('attentions').child(0), x, { channels: 512, groups: 32, eps: 1e-6, headDim: 512 });
 */
export function attentionBlock(p: Params, x: Value, o: AttentionBlockOptions): Value {
  return p.scoped(() => {
    const [, , height, width] = x.shape;
    check(typeof height === 'number' && typeof width === 'number', 'attentionBlock', `${p.prefix}: the spatial size must be static, got ${x.shape.join('×')}`);
    const c = o.channels;
    const gn = p.child('group_norm');
    const normed = groupNorm(x, o.groups, gn.param('weight', [c]), gn.param('bias', [c]), o.eps);
    const tokens = Transpose(Reshape(normed, [0, c, -1]), [0, 2, 1]);
    const q = linear(p.child('to_q'), tokens, c, c);
    const k = linear(p.child('to_k'), tokens, c, c);
    const v = linear(p.child('to_v'), tokens, c, c);
    const attended = linear(p.child('to_out').child(0), attention(q, k, v, { heads: c / o.headDim }), c, c);
    const image = Reshape(Transpose(attended, [0, 2, 1]), [0, c, height, width]);
    const sum = Add(image, x);
    const f = o.rescaleOutputFactor ?? 1;
    return f === 1 ? sum : Div(sum, f);
  });
}
