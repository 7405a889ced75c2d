import { Add, layerNorm, type Params, type Value } from '@sdxs/graph';
import { clipAttention } from './attention.js';
import type { CLIPTextConfig } from './config.js';
import { clipMlp } from './mlp.js';

/** A pre-norm LayerNorm under `p` (weight and bias, as torch.nn.LayerNorm stores them). */
export function clipLayerNorm(p: Params, x: Value, config: CLIPTextConfig): Value {
  const d = config.hidden_size;
  return layerNorm(x, p.param('weight', [d]), p.param('bias', [d]), { eps: config.layer_norm_eps });
}

/** CLIPEncoderLayer (transformers): x + attn(ln1(x)), then h + mlp(ln2(h)). */
export function clipEncoderLayer(p: Params, x: Value, config: CLIPTextConfig): Value {
  return p.scoped(() => {
    const h = Add(x, clipAttention(p.child('self_attn'), clipLayerNorm(p.child('layer_norm1'), x, config), config));
    return Add(h, clipMlp(p.child('mlp'), clipLayerNorm(p.child('layer_norm2'), h, config), config));
  });
}
