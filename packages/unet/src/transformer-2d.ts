/**
 * diffusers' `Transformer2DModel` for continuous inputs (diffusers/models/transformers/transformer_2d.py): GroupNorm,
 * `proj_in` (1×1 conv, or linear when `use_linear_projection`), BasicTransformerBlocks on the H·W tokens, `proj_out`,
 * plus the input.
 */
import { Add, conv2d, GraphError, linear, Reshape, Transpose, type Params, type Value } from '@sdxs/graph';
import { basicTransformerBlock } from './basic-transformer-block.js';
import { groupNorm2d } from './layers.js';

export interface Transformer2DOptions {
  channels: number;
  heads: number;
  crossAttentionDim: number;
  /** BasicTransformerBlocks (`transformer_layers_per_block`). */
  layers: number;
  groups: number;
  useLinearProjection: boolean;
  onlyCrossAttention: boolean;
  upcastAttention: boolean;
}

/**
 * [B, C, H, W] with `context` [B, T, crossAttentionDim] → [B, C, H, W]. Heads split C as diffusers' blocks do:
 * `dimHead = C // heads`, inner width heads·dimHead. H and W must be known while building (the tokens are
 * reshaped back to the image).
 *
 * @example
 * const h = transformer2D(block.child('attentions').child(0), x, ctx, { channels: 320, heads: 8, crossAttentionDim: 768, layers: 1, groups: 32, useLinearProjection: false, onlyCrossAttention: false, upcastAttention: false });
 */
export function transformer2D(p: Params, x: Value, context: Value, o: Transformer2DOptions): Value {
  const [, , h, w] = x.shape;
  if (typeof h !== 'number' || typeof w !== 'number') {
    throw new GraphError('Transformer2DModel', `${p.prefix}: height and width must be known while building, got [${x.shape.join(', ')}]`);
  }
  const dimHead = Math.floor(o.channels / o.heads);
  const inner = o.heads * dimHead;
  // [B, C, H, W] ↔ [B, H·W, C]: the tokens the transformer blocks see. The 4-D permutes (diffusers'
  // `permute(0, 2, 3, 1).reshape(...)` and back) rather than a 3-D transpose, because that is the form onnxruntime's
  // CPU layout pass folds into its NCHWc reorders (`ReorderOutput`/`ReorderInput` with channels_last): no
  // separate Transpose of the [B, H·W, C] activation on either side of the blocks.
  const toTokens = (v: Value, c: number) => Reshape(Transpose(v, [0, 2, 3, 1]), [0, -1, c]);
  const toImage = (v: Value, c: number) => Transpose(Reshape(v, [0, h, w, c]), [0, 3, 1, 2]);

  let t = p.child('norm').scoped(() => groupNorm2d(p.child('norm'), x, o.channels, o.groups, 1e-6));
  t = p.child('proj_in').scoped(() =>
    o.useLinearProjection ? linear(p.child('proj_in'), toTokens(t, o.channels), o.channels, inner) : toTokens(conv2d(p.child('proj_in'), t, o.channels, inner, 1), inner),
  );
  const blocks = p.child('transformer_blocks');
  for (let i = 0; i < o.layers; i++) {
    t = basicTransformerBlock(blocks.child(i), t, context, {
      dim: inner,
      heads: o.heads,
      dimHead,
      crossAttentionDim: o.crossAttentionDim,
      onlyCrossAttention: o.onlyCrossAttention,
      upcastAttention: o.upcastAttention,
    });
  }
  const out = p.child('proj_out').scoped(() =>
    o.useLinearProjection ? toImage(linear(p.child('proj_out'), t, inner, o.channels), o.channels) : conv2d(p.child('proj_out'), toImage(t, inner), inner, o.channels, 1),
  );
  return Add(out, x);
}
