import { attention, linear, type Params, type Value } from '@sdxs/graph';
import type { CLIPTextConfig } from './config.js';

/**
 * CLIPAttention (transformers) with the causal mask the text tower always uses: q/k/v/out projections with
 * bias, softmax scale head_dim^-0.5. Stable Diffusion pipelines pass no padding mask, so none is applied.
 */
export function clipAttention(p: Params, x: Value, config: CLIPTextConfig): Value {
  const d = config.hidden_size;
  const q = linear(p.child('q_proj'), x, d, d);
  const k = linear(p.child('k_proj'), x, d, d);
  const v = linear(p.child('v_proj'), x, d, d);
  const o = attention(q, k, v, { heads: config.num_attention_heads, causal: true });
  return linear(p.child('out_proj'), o, d, d);
}
