/** diffusers' `FeedForward(dim, activation_fn="geglu")` with `GEGLU` (diffusers/models/attention.py, activations.py). */
import { gelu, linear, Mul, Split, type Params, type Value } from '@sdxs/graph';

/**
 * `net.0.proj` [2·inner, dim] → split into hidden and gate → hidden · GELU(gate) (exact, erf) → `net.2` [dim, inner],
 * with inner = 4·dim (GLU variants, Shazeer 2020).
 *
 * @example
 * const y = feedForwardGeglu(block.child('ff'), h, 320);
 */
export function feedForwardGeglu(p: Params, x: Value, dim: number, mult = 4): Value {
  return p.scoped(() => {
    const inner = dim * mult;
    const net = p.child('net');
    const [hidden, gate] = Split(linear(net.child(0).child('proj'), x, dim, 2 * inner), [inner, inner], -1) as [Value, Value];
    return linear(net.child(2), Mul(hidden, gelu(gate)), inner, dim);
  });
}
