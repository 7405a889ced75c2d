import { gelu, linear, quickGelu, type Params, type Value } from '@sdxs/graph';
import type { CLIPTextConfig } from './config.js';

/** CLIPMLP (transformers): fc1 → activation → fc2. */
export function clipMlp(p: Params, x: Value, config: CLIPTextConfig): Value {
  const h = linear(p.child('fc1'), x, config.hidden_size, config.intermediate_size);
  const a = config.hidden_act === 'quick_gelu' ? quickGelu(h) : gelu(h, 'erf');
  return linear(p.child('fc2'), a, config.intermediate_size, config.hidden_size);
}
