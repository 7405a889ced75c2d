/** diffusers' `FeedForward(dim, activation_fn="geglu")` with `GEGLU` (diffusers/models/attention.py, activations.py). */
import { Add, gelu, linear, MatMul, Mul, Slice, Transpose, type Params, type Value } from '@sdxs/graph';

/**
 * `net.0.proj` [2·inner, dim] → split into hidden and gate → hidden · GELU(gate) (exact, erf) → `net.2` [dim, inner],
 * with inner = 4·dim (GLU variants, Shazeer 2020).
 *
 * The projection is emitted as two MatMuls on the halves of its weight and bias rather than one MatMul and a
 * Split of its output: the halves are slices of initializers, which onnxruntime folds into constants when the
 * session is created, so the [B, S, 2·inner] activation is never written and read back by a Split. Each output
 * element is the same dot product either way. On the CPU the Split was 0.5–1 % of an SDXS-512 U-Net run
 * (onnxruntime profiler, apps/bench-node/src/perf/profile-cpu.ts).
 *
 * @example
 * const y = feedForwardGeglu(block.child('ff'), h, 320);
 */
export function feedForwardGeglu(p: Params, x: Value, dim: number, mult = 4): Value {
  return p.scoped(() => {
    const inner = dim * mult;
    const net = p.child('net');
    const proj = net.child(0).child('proj');
    const weight = proj.param('weight', [2 * inner, dim]);
    const bias = proj.param('bias', [2 * inner]);
    // torch's `chunk(2, dim=-1)`: the first half of the outputs is the hidden state, the second the gate.
    const half = (i: 0 | 1) => {
      const w = Slice(weight, [i * inner], [(i + 1) * inner], [0]);
      return Add(MatMul(x, Transpose(w, [1, 0])), Slice(bias, [i * inner], [(i + 1) * inner], [0]));
    };
    return linear(net.child(2), Mul(half(0), gelu(half(1))), inner, dim);
  });
}
