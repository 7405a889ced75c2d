import { broadcastShapes, dimsCompatible, formatDims, type Dim } from '../dim.js';
import { check } from '../errors.js';
import { loweringFor } from '../lowering.js';
import { Add } from '../ops/add.js';
import { Expand } from '../ops/expand.js';
import { MatMul } from '../ops/matmul.js';
import { MsMultiHeadAttention } from '../ops/ms-multi-head-attention.js';
import { Mul } from '../ops/mul.js';
import { Reshape } from '../ops/reshape.js';
import { Softmax } from '../ops/softmax.js';
import { Transpose } from '../ops/transpose.js';
import { Unsqueeze } from '../ops/unsqueeze.js';
import { checkFloat, checkSameDType } from '../ops/_helpers.js';
import type { Value } from '../value.js';
import { floatConstant } from './_util.js';

export interface AttentionOptions {
  heads: number;
  /** Softmax scale; default 1/√head_dim (diffusers' `Attention(scale_qk=True)`). */
  scale?: number;
  /**
   * Added to the scaled scores before the softmax (0 keeps, a large negative value drops): the additive mask
   * diffusers' `Attention.prepare_attention_mask` produces. Its shape broadcasts to [B, heads, S, T]; rank < 4
   * is aligned to the right, as numpy broadcasting does.
   */
  mask?: Value;
  /** Query i sees keys 0..i only (CLIP's text encoder). Needs S = T. */
  causal?: boolean;
}

/**
 * Multi-head scaled dot-product attention on projected inputs, as diffusers' `AttnProcessor` does after
 * `to_q`/`to_k`/`to_v`: q [B, S, heads·d], k [B, T, heads·d], v [B, T, heads·dv] → [B, S, heads·dv].
 * Lowered per target (lowering.ts): `decomposed` (heads split by Reshape/Transpose, MatMul, Softmax, MatMul)
 * or `contrib-mha` (one com.microsoft.MultiHeadAttention node, flash attention on WebGPU and CUDA).
 *
 * @example
 * const o = attention(MatMul(x, wq), MatMul(ctx, wk), MatMul(ctx, wv), { heads: 8 });
 */
export function attention(q: Value, k: Value, v: Value, options: AttentionOptions): Value {
  const op = 'attention';
  const { heads } = options;
  const shapes = [q.shape, k.shape, v.shape];
  checkFloat(op, q);
  checkSameDType(op, options.mask ? [q, k, v, options.mask] : [q, k, v]);
  check(q.rank === 3 && k.rank === 3 && v.rank === 3, op, 'q, k and v must be [batch, sequence, heads·dim]', shapes);
  check(Number.isInteger(heads) && heads > 0, op, `heads must be a positive integer, got ${heads}`);
  const [b, s, dq] = q.shape as [Dim, Dim, Dim];
  const [, t, dk] = k.shape as [Dim, Dim, Dim];
  const [, tv, dv] = v.shape as [Dim, Dim, Dim];
  check(dimsCompatible(b, k.shape[0]!) && dimsCompatible(b, v.shape[0]!), op, 'batch sizes differ', shapes);
  check(dimsCompatible(t, tv), op, 'k and v lengths differ', shapes);
  check(typeof dq === 'number' && typeof dv === 'number' && dq === dk, op, 'hidden sizes must be static, and equal for q and k', shapes);
  check(dq % heads === 0 && dv % heads === 0, op, `hidden sizes ${dq}, ${dv} do not split into ${heads} heads`, shapes);
  const headDim = dq / heads;
  const scale = options.scale ?? 1 / Math.sqrt(headDim);
  if (options.causal) check(typeof s === 'number' && s === t, op, 'causal attention needs equal, static query and key lengths', shapes);
  const bias = options.mask;
  if (bias) {
    check(bias.rank <= 4, op, `mask has rank ${bias.rank}; at most 4 ([B, heads, S, T])`, [bias.shape]);
    check(broadcastShapes([bias.shape, [b, heads, s, t]]) !== undefined, op, `mask ${formatDims(bias.shape)} does not broadcast to [${b}, ${heads}, ${s}, ${t}]`);
  }

  if (loweringFor(q.graph, 'attention') === 'contrib-mha') {
    return MsMultiHeadAttention(q, k, v, bias && mhaBias(bias, s, t), { heads, scale, unidirectional: options.causal ?? false });
  }

  // [B, L, heads·d] -> [B, heads, L, d]; K goes straight to [B, heads, d, T] for the score MatMul.
  const split = (x: Value, d: number, perm: number[]) => Transpose(Reshape(x, [0, 0, heads, d]), perm);
  const qh = split(q, headDim, [0, 2, 1, 3]);
  const kh = split(k, headDim, [0, 2, 3, 1]);
  const vh = split(v, dv / heads, [0, 2, 1, 3]);
  // Scaling q (B·S·D values) before the MatMul is cheaper than scaling the scores (B·heads·S·T) and keeps
  // float16 scores in range.
  let scores = MatMul(Mul(qh, scale), kh);
  if (bias) scores = Add(scores, bias);
  if (options.causal) scores = Add(scores, causalMask(q, s as number));
  const out = MatMul(Softmax(scores, -1), vh);
  return Reshape(Transpose(out, [0, 2, 1, 3]), [0, 0, dv]);
}

/**
 * MultiHeadAttention's attention_bias is [B or 1, heads or 1, S, T]: a lower-rank mask gets leading 1s, and a
 * mask that broadcasts over queries or keys (a key-padding mask [B, 1, 1, T]) is expanded to full S and T.
 */
function mhaBias(mask: Value, s: Dim, t: Dim): Value {
  const bias = mask.rank < 4 ? Unsqueeze(mask, [...Array(4 - mask.rank).keys()]) : mask;
  const [, , ms, mt] = bias.shape;
  if (dimsCompatible(ms!, s) && dimsCompatible(mt!, t)) return bias;
  check(typeof s === 'number' && typeof t === 'number', 'attention', `contrib-mha needs a mask of full [S, T] extent, or static S and T to expand ${formatDims(mask.shape)} to`);
  return Expand(bias, [1, 1, s, t]);
}

/** [S, S] additive mask: 0 on and below the diagonal, −∞ above it. */
function causalMask(like: Value, s: number): Value {
  const data = new Float32Array(s * s);
  for (let i = 0; i < s; i++) for (let j = i + 1; j < s; j++) data[i * s + j] = -Infinity;
  return floatConstant(like.graph, like.dtype, [s, s], data, 'causal_mask');
}
