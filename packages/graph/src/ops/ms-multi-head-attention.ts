import { attr, type Attributes } from '../attributes.js';
import { dimsCompatible, type Dim } from '../dim.js';
import { check } from '../errors.js';
import type { Value } from '../value.js';
import { checkFloat, checkSameDType } from './_helpers.js';

export interface MsMultiHeadAttentionAttrs {
  heads: number;
  /** Softmax scale; the op's default is 1/√head_size. */
  scale?: number;
  /** Each query attends only to keys at or before its position. */
  unidirectional?: boolean;
}

/**
 * com.microsoft.MultiHeadAttention without projections: query [B, S, H·d], key [B, T, H·d], value [B, T, H·dv]
 * → [B, S, H·dv]; `attentionBias` is added to the scaled scores and has shape [B or 1, H or 1, S, T].
 * Kernels: CPU EP (float; onnxruntime inserts casts around it for float16), CUDA (flash / memory-efficient
 * attention), native WebGPU (flash attention) and JSEP.
 *
 * @example
 * const o = MsMultiHeadAttention(q, k, v, undefined, { heads: 8 });
 */
export function MsMultiHeadAttention(query: Value, key: Value, value: Value, attentionBias: Value | undefined, attrs: MsMultiHeadAttentionAttrs): Value {
  const op = 'com.microsoft.MultiHeadAttention';
  const shapes = [query.shape, key.shape, value.shape, ...(attentionBias ? [attentionBias.shape] : [])];
  checkFloat(op, query);
  checkSameDType(op, attentionBias ? [query, key, value, attentionBias] : [query, key, value]);
  check(query.rank === 3 && key.rank === 3 && value.rank === 3, op, 'query, key and value must be [batch, sequence, hidden]', shapes);
  const [b, s, dq] = query.shape as [Dim, Dim, Dim];
  const [bk, t, dk] = key.shape as [Dim, Dim, Dim];
  const [bv, tv, dv] = value.shape as [Dim, Dim, Dim];
  const h = attrs.heads;
  check(Number.isInteger(h) && h > 0, op, `heads must be a positive integer, got ${h}`);
  check(dimsCompatible(b, bk) && dimsCompatible(b, bv) && dimsCompatible(t, tv), op, 'batch and key/value lengths must agree', shapes);
  check(dimsCompatible(dq, dk), op, 'query and key hidden sizes differ', shapes);
  for (const d of [dq, dv]) check(typeof d !== 'number' || d % h === 0, op, `hidden size ${d} does not split into ${h} heads`, shapes);
  if (attentionBias) {
    const [b0, h0, s0, t0] = attentionBias.shape;
    check(
      attentionBias.rank === 4 && (b0 === 1 || dimsCompatible(b0!, b)) && (h0 === 1 || dimsCompatible(h0!, h)) && dimsCompatible(s0!, s) && dimsCompatible(t0!, t),
      op,
      `attention bias must be [${b} or 1, ${h} or 1, ${s}, ${t}]`,
      shapes,
    );
  }
  const attributes: Attributes = {
    num_heads: attr.int(h),
    ...(attrs.scale !== undefined ? { scale: attr.float(attrs.scale) } : {}),
    ...(attrs.unidirectional ? { unidirectional: attr.int(1) } : {}),
  };
  // Inputs 3 (bias) and 4 (key_padding_mask) are omitted; 5 is attention_bias.
  const inputs = attentionBias ? [query, key, value, undefined, undefined, attentionBias] : [query, key, value];
  const [y] = query.graph.addNode({ opType: 'MultiHeadAttention', domain: 'com.microsoft', inputs, attributes, outputs: [{ dtype: query.dtype, shape: [b, s, dv] }] });
  return y!;
}
