import { GraphError } from './errors.js';
import type { Graph } from './graph.js';
import { TARGETS, type Target } from './target.js';

/**
 * The implementations each composite can lower to. Names describe the ONNX nodes emitted:
 * - groupNorm: `instance-norm` Reshape→InstanceNormalization→Reshape→Mul→Add; `decomposed` ReduceMean/Sub/Mul/Sqrt;
 *   `contrib-nhwc` Transpose→com.microsoft.GroupNorm→Transpose (CUDA only in onnxruntime 1.30).
 * - attention: `decomposed` Reshape/Transpose/MatMul/Softmax/MatMul; `contrib-mha` com.microsoft.MultiHeadAttention.
 * - gelu: `formula` Erf or Tanh arithmetic; `contrib` com.microsoft.Gelu / FastGelu; `onnx20` ONNX Gelu (opset ≥ 20).
 * - silu: `mul-sigmoid` x·Sigmoid(x); `contrib-quickgelu` com.microsoft.QuickGelu with alpha 1.
 * - quickGelu: `mul-sigmoid` x·Sigmoid(1.702x); `contrib` com.microsoft.QuickGelu.
 * - layerNorm: `onnx` LayerNormalization (opset 17); `decomposed` ReduceMean/Sub/Mul/Sqrt.
 */
export interface CompositeImpls {
  groupNorm: 'instance-norm' | 'decomposed' | 'contrib-nhwc';
  attention: 'decomposed' | 'contrib-mha';
  gelu: 'formula' | 'contrib' | 'onnx20';
  silu: 'mul-sigmoid' | 'contrib-quickgelu';
  quickGelu: 'mul-sigmoid' | 'contrib';
  layerNorm: 'onnx' | 'decomposed';
}

export type CompositeName = keyof CompositeImpls;
export type ImplName<C extends CompositeName = CompositeName> = CompositeImpls[C];

/** Per composite: a default implementation and the targets that differ from it. */
export type Lowering = { readonly [C in CompositeName]: { readonly default: CompositeImpls[C] } & Partial<Readonly<Record<Target, CompositeImpls[C]>>> };

/**
 * Overrides a graph may carry (`new Graph({ lowering: { attention: 'decomposed' } })`): one implementation for
 * every target, or a choice per target. Used to force an implementation in tests and benchmarks.
 */
export type LoweringOverrides = { readonly [C in CompositeName]?: CompositeImpls[C] | Partial<Readonly<Record<Target, CompositeImpls[C]>>> };

/** Every implementation of every composite, for tests and benchmarks that try them all. */
export const IMPLS: { readonly [C in CompositeName]: readonly CompositeImpls[C][] } = {
  groupNorm: ['instance-norm', 'decomposed', 'contrib-nhwc'],
  attention: ['decomposed', 'contrib-mha'],
  gelu: ['formula', 'contrib', 'onnx20'],
  silu: ['mul-sigmoid', 'contrib-quickgelu'],
  quickGelu: ['mul-sigmoid', 'contrib'],
  layerNorm: ['onnx', 'decomposed'],
};

/**
 * The default choice per target. These are starting points from what each execution provider implements
 * (docs/DESIGN.md, "One graph per backend"), to be replaced by measurements: the table is data, so a benchmark
 * can rewrite it without touching model code.
 * - groupNorm: InstanceNormalization everywhere except CUDA, the only EP with a com.microsoft.GroupNorm kernel.
 * - attention: the fused MultiHeadAttention where it is a flash-attention kernel (CUDA); on CPU/WASM the
 *   decomposition lets onnxruntime's MatMul (MLAS) do the work. WebGPU stays decomposed until measured on a
 *   real GPU: onnxruntime-node 1.30's WebGPU flash-attention path (query length ≥ 32, head size a multiple of 4 —
 *   every SD attention) returned values off by 0.03–0.2 on SwiftShader (docs/webgpu-ep.md), and no GPU machine
 *   has confirmed it correct yet; correctness first.
 * - gelu/silu/quickGelu: the contrib kernels exist on every EP we target; onnxruntime would fuse the formula
 *   into them on CPU anyway.
 */
export const DEFAULT_LOWERING: Lowering = {
  groupNorm: { default: 'instance-norm', cuda: 'contrib-nhwc' },
  attention: { default: 'decomposed', cuda: 'contrib-mha' },
  gelu: { default: 'contrib' },
  silu: { default: 'mul-sigmoid' },
  quickGelu: { default: 'contrib' },
  layerNorm: { default: 'onnx' },
};

/**
 * The implementation a composite emits in `graph`: the graph's override for its target, else the table's
 * entry for the target, else the table's default.
 *
 * @example
 * if (loweringFor(x.graph, 'attention') === 'contrib-mha') ...
 */
export function loweringFor<C extends CompositeName>(graph: Graph, composite: C): CompositeImpls[C] {
  const override: CompositeImpls[C] | Partial<Readonly<Record<Target, CompositeImpls[C]>>> | undefined = graph.lowering[composite];
  const entry = DEFAULT_LOWERING[composite];
  let choice: CompositeImpls[C] | undefined;
  if (typeof override === 'string') choice = override;
  else choice = override?.[graph.target];
  choice ??= entry[graph.target] ?? entry.default;
  if (!IMPLS[composite].includes(choice)) throw new GraphError(composite, `unknown implementation ${String(choice)}; choose one of ${IMPLS[composite].join(', ')}`);
  return choice;
}

/** Check an override map given to a Graph: known composites, targets and implementation names. */
export function checkLoweringOverrides(overrides: LoweringOverrides): void {
  for (const [name, value] of Object.entries(overrides)) {
    if (!isComposite(name)) throw new GraphError('Graph', `lowering override for unknown composite ${name}`);
    const known: readonly string[] = IMPLS[name];
    const choices = typeof value === 'string' ? [value] : Object.entries(value ?? {}).map(([target, impl]) => {
      if (!(TARGETS as readonly string[]).includes(target)) throw new GraphError('Graph', `lowering override for ${name} names unknown target ${target}`);
      return impl;
    });
    for (const c of choices) {
      if (typeof c !== 'string' || !known.includes(c)) throw new GraphError('Graph', `lowering override for ${name}: unknown implementation ${String(c)}; choose one of ${known.join(', ')}`);
    }
  }
}

function isComposite(name: string): name is CompositeName {
  return Object.hasOwn(IMPLS, name);
}
