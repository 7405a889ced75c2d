/**
 * diffusers' `BasicTransformerBlock` (diffusers/models/attention.py) as SD U-Nets configure it: `norm_type="layer_norm"`,
 * GEGLU feed-forward, no attention bias, cross-attention always present.
 */
import { Add, type Params, type Value } from '@sdxs/graph';
import { attentionLayer } from './attention.js';
import { feedForwardGeglu } from './feed-forward.js';
import { layerNorm1d } from './layers.js';

export interface BasicTransformerBlockOptions {
  dim: number;
  heads: number;
  dimHead: number;
  crossAttentionDim: number;
  /** attn1 attends to the context too (instead of self-attention). */
  onlyCrossAttention: boolean;
  upcastAttention: boolean;
}

/**
 * Pre-norm residual sub-layers on [B, S, dim]: norm1 → attn1 (self, or cross when `onlyCrossAttention`),
 * norm2 → attn2 (cross, over `context` [B, T, crossAttentionDim]), norm3 → ff. LayerNorm eps is diffusers' 1e-5.
 *
 * @example
 * const h = basicTransformerBlock(t.child('transformer_blocks').child(0), x, ctx, { dim: 320, heads: 8, dimHead: 40, crossAttentionDim: 768, onlyCrossAttention: false, upcastAttention: false });
 */
export function basicTransformerBlock(p: Params, x: Value, context: Value, o: BasicTransformerBlockOptions): Value {
  const attn = { queryDim: o.dim, heads: o.heads, dimHead: o.dimHead, crossAttentionDim: o.crossAttentionDim, upcast: o.upcastAttention };
  const norm = (name: string, h: Value) => p.child(name).scoped(() => layerNorm1d(p.child(name), h, o.dim));
  let h = Add(attentionLayer(p.child('attn1'), norm('norm1', x), o.onlyCrossAttention ? context : undefined, attn), x);
  h = Add(attentionLayer(p.child('attn2'), norm('norm2', h), context, attn), h);
  return Add(feedForwardGeglu(p.child('ff'), norm('norm3', h), o.dim), h);
}
