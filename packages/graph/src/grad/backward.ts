import { isFloatDType } from '@sdxs/tensor';
import { dimsCompatible, formatDims } from '../dim.js';
import { GraphError } from '../errors.js';
import type { Graph, Node } from '../graph.js';
import { Add } from '../ops/add.js';
import { scalar } from '../ops/_helpers.js';
import type { Value } from '../value.js';
import { ruleFor, ruleKey } from './rules.js';
import type { GradArgs } from './_rule.js';
import { stoppedNames } from './stop-gradient.js';
import { broadcastTo, zerosLike } from './_util.js';

export interface GradOptions {
  /** The upstream cotangent of `loss` (its shape and dtype); default ones, i.e. the gradient of Σ loss. */
  seed?: Value;
}

/**
 * Reverse-mode gradients of `loss` with respect to each value of `wrt`, built as ordinary nodes of the same
 * graph, so one ONNX Runtime session runs the forward and the backward pass. Gradients have the shapes of
 * the `wrt` values; a value `loss` does not depend on gets zeros.
 *
 * The pass walks the nodes from `loss` back in reverse topological order (the order they were added in),
 * summing the cotangents of values read more than once, and visits only nodes between `wrt` and `loss`:
 * gradients of inputs that do not depend on `wrt` (a frozen network's weights) are never built. It follows
 * float values only, and stops at `stopGradient` values.
 *
 * Training graphs: every op the builder emits has a rule (rules.ts) except two fused contrib kernels,
 * com.microsoft.MultiHeadAttention and com.microsoft.GroupNorm, which make `grad` throw, naming the lowering to
 * use. The CPU and WASM default lowerings avoid both; for WebGPU or CUDA build the training graph with
 * `new Graph({ target, lowering: { attention: 'decomposed', groupNorm: 'instance-norm' } })`.
 * Static spatial sizes are needed for Conv weight gradients, strided Conv input gradients, Slice, Concat and
 * Resize gradients; the batch may stay symbolic.
 *
 * @example
 * const g = new Graph({ lowering: { attention: 'decomposed' } });
 * const x = g.input('x', 'float32', [8, 4]);
 * const w = g.parameter('fc.weight', 'float32', [4, 2]);
 * const loss = ReduceMean(Mul(MatMul(x, w), MatMul(x, w)));
 * const [dw] = grad(loss, [w]);
 * g.output(loss, 'loss');
 * g.output(dw!, 'fc.weight.grad');
 */
export function grad(loss: Value, wrt: readonly Value[], options: GradOptions = {}): Value[] {
  const g = loss.graph;
  for (const v of [...wrt, ...(options.seed ? [options.seed] : [])]) {
    if (v.graph !== g) throw new GraphError('grad', `${v.name} belongs to another graph than the loss ${loss.name}`);
  }
  if (!isFloatDType(loss.dtype)) throw new GraphError('grad', `the loss must be a float tensor, got ${loss}`);
  const seed = options.seed ?? broadcastTo(scalar(g, 1, loss.dtype), loss);
  if (seed.dtype !== loss.dtype || seed.rank !== loss.rank || !seed.shape.every((d, i) => dimsCompatible(d, loss.shape[i]!))) {
    throw new GraphError('grad', `the seed ${seed} must have the loss's dtype and shape ${loss.dtype}${formatDims(loss.shape)}`);
  }
  return g.scoped('grad', () => {
    const cotangents = backward(g, loss, seed, wrt);
    return wrt.map((w) => cotangents.get(w.name) ?? zerosLike(w));
  });
}

/** Which values depend on `wrt` through float edges not cut by stopGradient, over nodes[0..end]. */
function dependents(nodes: readonly Node[], end: number, g: Graph, wrt: readonly Value[]): Set<string> {
  const stopped = stoppedNames(g);
  const depends = new Set(wrt.filter((w) => isFloatDType(w.dtype)).map((w) => w.name));
  for (let i = 0; i <= end; i++) {
    const node = nodes[i]!;
    if (ruleFor(node) === 'none' || !node.inputs.some((n) => depends.has(n))) continue;
    for (const o of node.outputs) if (!stopped.has(o) && isFloatDType(g.value(o).dtype)) depends.add(o);
  }
  return depends;
}

/** The reverse sweep: cotangents of every value between `wrt` and `loss`, by name. */
function backward(g: Graph, loss: Value, seed: Value, wrt: readonly Value[]): Map<string, Value> {
  const nodes = g.nodes;
  const end = nodes.findIndex((n) => n.outputs.includes(loss.name));
  const depends = dependents(nodes, end, g, wrt);
  const cotangents = new Map<string, Value>([[loss.name, seed]]);
  for (let i = end; i >= 0; i--) {
    const node = nodes[i]!;
    const dys = node.outputs.map((o) => (depends.has(o) ? cotangents.get(o) : undefined));
    if (dys.every((d) => d === undefined)) continue;
    const targets = node.inputs.flatMap((n, j) => (n !== '' && depends.has(n) ? [j] : []));
    if (targets.length === 0) continue;
    const rule = ruleFor(node);
    if (rule === undefined) throw new GraphError('grad', `no gradient rule for ${ruleKey(node)} (node ${node.name})`);
    if (rule === 'none') continue;
    if (typeof rule !== 'function') throw new GraphError('grad', `no gradient rule for ${ruleKey(node)} (node ${node.name}): ${rule.unsupported}`);
    const outputs = node.outputs.map((o) => g.value(o));
    const inputs = node.inputs.map((n) => (n === '' ? undefined : g.value(n)));
    let dy0: Value | undefined;
    const args: GradArgs = {
      graph: g,
      node,
      inputs,
      outputs,
      dys,
      get dy() {
        return (dy0 ??= dys[0] ?? zerosLike(outputs[0]!));
      },
    };
    const grads = rule(args);
    for (const j of targets) {
      const input = inputs[j]!;
      const build = grads[j];
      if (!build) throw new GraphError('grad', `${ruleKey(node)} (node ${node.name}) has no gradient with respect to its input ${j} (${input.name})`);
      const d = build();
      if (d.dtype !== input.dtype || d.rank !== input.rank || !d.shape.every((s, k) => dimsCompatible(s, input.shape[k]!))) {
        throw new GraphError('grad', `the ${ruleKey(node)} rule gave ${d} for input ${input}`);
      }
      const prev = cotangents.get(input.name);
      cotangents.set(input.name, prev ? Add(prev, d) : d);
    }
  }
  return cotangents;
}
