import type { Graph, Node, Value } from '@sdxs/graph';
import type { Tensor } from '@sdxs/tensor';

/**
 * What a parameter P does to one value of the forward graph, as far as this analysis can tell.
 * - `independent`: the value does not depend on P.
 * - `offset`: the value is `a + t` with `a` independent of P and `t` depending on P (in any way) but constant along
 *   every axis after the channel axis (rank ≥ 3, NC…), i.e. a per-(sample, channel) constant.
 * - `general`: anything else.
 */
type Dependence = 'independent' | 'offset' | 'general';

/**
 * Why a parameter's gradient is exactly zero, or why that could not be proven. `proof` is a short trail of the nodes
 * that remove P's contribution.
 */
export interface ZeroProof {
  readonly param: string;
  readonly zero: boolean;
  /** The normalisations that remove P's contribution (proven), or the first node where P's influence escapes. */
  readonly detail: string;
}

/**
 * Proves structurally that `d output / d param` is exactly zero (in exact arithmetic): every path from the parameter to
 * `output` adds a per-(sample, channel) constant right before a normalisation over everything but (sample, channel),
 * which subtracts that constant again.
 *
 * Why this exists: ResnetBlock2D adds conv1's bias and the time embedding projection, both constant over H and W, right
 * before norm2; with as many groups as channels (32 channels, 32 groups in grad-unet-sdxs512), GroupNorm normalises
 * each channel on its own and the constant cancels in `x − mean(x)` (the variance does not see it either). Such a
 * gradient is zero in theory, so PyTorch's value and ours are both float32 rounding noise (≈3e-6), and comparing them
 * "relative to their own scale" compares noise with noise. Only a proof licenses the weaker check (both at noise
 * level); anything this analysis does not recognise stays under the strict one.
 *
 * The analysis is a forward pass over the graph's nodes (they are in topological order) with one state per value
 * (`Dependence`), sound by construction: a rule only claims `independent`/`offset` when the algebra guarantees it, and
 * every op it does not know makes a dependent input `general`. Rules:
 * - a node none of whose inputs depends on P: its outputs are independent;
 * - `Conv(x, w, b)` with only the bias b depending on P: `offset` (ONNX Conv adds b[c] at every position of channel c);
 * - `Add`/`Sub` of independent and `offset` operands of the output's rank: `offset` (a sum of per-channel constants is
 *   one, and an operand of size 1 on the axes after the channel broadcasts as a constant there);
 * - `Reshape`/`Identity` of an `offset` value that keeps the first two dims (GroupNorm's `[N, G, −1]` view with G equal
 *   to the channel count keeps each (n, c) block contiguous and in place): `offset`;
 * - `InstanceNormalization` of an `offset` value with independent scale and bias: independent — this is the step that
 *   removes P. It is the `instance-norm` lowering of GroupNorm (Reshape [N, G, −1] → InstanceNormalization →
 *   Reshape); with fewer groups than channels the Reshape's second dim is G ≠ C and the rule does not apply. The
 *   `decomposed` lowering (ReduceMean/Sub/…) is not recognised: its parameters keep the strict check;
 * - any value of rank ≥ 3 whose dims after the channel axis are all 1 (a time embedding `[B, C, 1, 1]`) is at worst
 *   `offset`, whatever it depends on.
 * The gradient is proven zero when `output` comes out independent of P.
 */
export function proveZeroGradient(graph: Graph, output: Value, param: string): ZeroProof {
  const state = new Map<string, Dependence>([[param, 'general']]);
  const cancelled: string[] = [];
  const get = (name: string): Dependence => (name === '' ? 'independent' : (state.get(name) ?? 'independent'));
  let escaped: string | undefined;
  for (const node of graph.nodes) {
    const ins = node.inputs.map(get);
    if (ins.every((d) => d === 'independent')) continue;
    const out = transfer(graph, node, ins);
    if (out === 'independent' && node.opType === 'InstanceNormalization') cancelled.push(node.name);
    for (const o of node.outputs) {
      const d = out === 'general' && isPerChannel(graph.value(o)) ? 'offset' : out;
      state.set(o, d);
      if (d === 'general') escaped ??= `${node.name} (${node.opType})`;
    }
    if (node.outputs.includes(output.name)) break;
  }
  const zero = get(output.name) === 'independent';
  const detail = zero
    ? cancelled.length > 0
      ? `cancelled by ${cancelled.join(', ')}`
      : 'not on the path to the output'
    : `its influence reaches the output through ${escaped ?? output.name}`;
  return { param, zero, detail };
}

/** Every parameter of `graph` whose gradient `proveZeroGradient` proves zero, by name. */
export function structurallyZeroParams(graph: Graph, output: Value): Map<string, ZeroProof> {
  const proven = new Map<string, ZeroProof>();
  for (const p of graph.parameterNames) {
    const proof = proveZeroGradient(graph, output, p);
    if (proof.zero) proven.set(p, proof);
  }
  return proven;
}

function transfer(graph: Graph, node: Node, ins: readonly Dependence[]): Dependence {
  const out = graph.value(node.outputs[0]!);
  switch (node.opType) {
    case 'Conv':
      // Only the bias depends on P: b[c] is added at every position of channel c.
      return ins[0] === 'independent' && ins[1] === 'independent' && out.rank >= 3 ? 'offset' : 'general';
    case 'Add':
    case 'Sub':
      return out.rank >= 3 &&
        node.inputs.every((n, i) => ins[i] === 'independent' || (ins[i] === 'offset' && graph.value(n).rank === out.rank))
        ? 'offset'
        : 'general';
    case 'Identity':
      return ins[0] ?? 'general';
    case 'Reshape': {
      const x = graph.value(node.inputs[0]!);
      const keeps = out.rank >= 3 && [0, 1].every((i) => typeof x.shape[i] === 'number' && x.shape[i] === out.shape[i]);
      return ins[0] === 'offset' && ins[1] === 'independent' && keeps ? 'offset' : 'general';
    }
    case 'InstanceNormalization':
      return ins[0] === 'offset' && ins[1] === 'independent' && ins[2] === 'independent' ? 'independent' : 'general';
    default:
      return 'general';
  }
}

/** Rank ≥ 3 with every dim after the channel axis 1: constant along those axes whatever its values. */
function isPerChannel(v: Value): boolean {
  return v.rank >= 3 && v.shape.slice(2).every((d) => d === 1);
}

/**
 * The scale a structurally zero gradient is rounding noise of: the largest reference gradient magnitude among the other
 * parameters of the same module (`down_blocks.0.resnets.0` for `down_blocks.0.resnets.0.conv1.bias`) — the gradients
 * computed by the same sums next to it. Undefined when the module has no other gradient to measure against.
 */
export function moduleScale(param: string, reference: ReadonlyMap<string, Tensor>, zero: ReadonlySet<string>): { scale: number; of: string } | undefined {
  const parts = param.split('.');
  const module = parts.slice(0, Math.max(1, parts.length - 2)).join('.');
  let scale = 0;
  let found = false;
  for (const [name, t] of reference) {
    if (!name.startsWith(`grad.${module}.`) || zero.has(name.slice('grad.'.length))) continue;
    found = true;
    for (const v of t.data) scale = Math.max(scale, Math.abs(Number(v)));
  }
  return found && scale > 0 ? { scale, of: `grad.${module}.*` } : undefined;
}
