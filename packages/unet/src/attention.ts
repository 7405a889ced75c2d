/**
 * diffusers' `Attention` (diffusers/models/attention_processor.py) as BasicTransformerBlock builds it: `to_q`,
 * `to_k`, `to_v` without bias, `to_out.0` with bias, scaled dot-product attention (`AttnProcessor2_0`).
 */
import { attention, Cast, linear, type Params, type Value } from '@sdxs/graph';

export interface AttentionLayerOptions {
  /** Width of the queries' input (and of the output). */
  queryDim: number;
  /** Width of `context`; omit for self-attention (keys and values from `x`). */
  crossAttentionDim?: number;
  heads: number;
  dimHead: number;
  /** Compute scores and softmax in float32 (SD 2.x's `upcast_attention`); nothing to do in a float32 graph. */
  upcast?: boolean;
}

/**
 * Multi-head attention of `x` [B, S, queryDim] over `context` [B, T, crossAttentionDim] (or over `x` itself),
 * scale 1/√dimHead; the kernel is the target's (`attention` from @sdxs/graph).
 *
 * @example
 * const y = attentionLayer(block.child('attn2'), h, encoderHiddenStates, { queryDim: 320, crossAttentionDim: 768, heads: 8, dimHead: 40 });
 */
export function attentionLayer(p: Params, x: Value, context: Value | undefined, o: AttentionLayerOptions): Value {
  return p.scoped(() => {
    const inner = o.heads * o.dimHead;
    const kvIn = context ?? x;
    const kvDim = context ? (o.crossAttentionDim ?? o.queryDim) : o.queryDim;
    let q = linear(p.child('to_q'), x, o.queryDim, inner, false);
    let k = linear(p.child('to_k'), kvIn, kvDim, inner, false);
    let v = linear(p.child('to_v'), kvIn, kvDim, inner, false);
    const upcast = (o.upcast ?? false) && x.dtype !== 'float32';
    if (upcast) [q, k, v] = [Cast(q, 'float32'), Cast(k, 'float32'), Cast(v, 'float32')];
    let out = attention(q, k, v, { heads: o.heads });
    if (upcast) out = Cast(out, x.dtype);
    return linear(p.child('to_out').child(0), out, inner, o.queryDim);
  });
}
