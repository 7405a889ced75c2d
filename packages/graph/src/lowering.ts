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
 * - attention: the fused MultiHeadAttention on CUDA (flash attention) and on the CPU, where it measured faster than
 *   the decomposition (below); WASM keeps the decomposition (unmeasured). WebGPU stays decomposed until measured on a
 *   real GPU: onnxruntime-node 1.30's WebGPU flash-attention path (query length ≥ 32, head size a multiple of 4 —
 *   every SD attention) returned values off by 0.03–0.2 on SwiftShader (docs/webgpu-ep.md), and no GPU machine
 *   has confirmed it correct yet; correctness first.
 * - gelu/silu/quickGelu: the contrib kernels exist on every EP we target; onnxruntime would fuse the formula
 *   into them on CPU anyway.
 *
 * CPU (onnxruntime-node 1.30, 2-core AMD EPYC with AVX-512, float32, SDXS-512 at 512²), measured with
 * apps/bench-node/src/perf/ (profile-cpu.ts: onnxruntime's profiler per op type; ab-blocks.ts: one U-Net block at
 * its real shapes, two sessions in alternating rounds, median of the paired process-CPU-time ratios B/A — the
 * machine was shared, so wall clock was not usable; an A/A run spreads 0.85–1.08 around 0.99):
 * - Conv, Gemm and MatMul kernels are 95–96 % of a U-Net run and 99.7 % of the tiny decoder; every choice below
 *   moves the remaining few per cent.
 * - attention contrib-mha vs decomposed: transformer block at 640 channels (32², 1024 tokens) 0.942 and 0.950 on one
 *   thread (10 rounds), 0.959 on two (16 rounds); at 1280 channels (16²) 0.964 on one, 0.955 on two. The six
 *   blocks are about a third of the U-Net, so ≈ 1.5 % of it: below what a whole-U-Net A/B resolves here (1.006 over
 *   8 rounds on one thread), and it removes the U-Net's 48 head-splitting Transposes and 12 Softmaxes. Outputs of the
 *   unet-sdxs512 and pipeline-sdxs512-t2i golden cases unchanged in magnitude (max rel 1.2e-6). MultiHeadAttention
 *   has no gradient rule: training graphs ask for `decomposed` (@sdxs/distill's TRAINING_LOWERING).
 * - groupNorm decomposed vs instance-norm: ResnetBlock2D at 320 channels (64²) 0.995 on one thread (10 rounds) —
 *   no difference, so the form with fewer nodes (and the one torch.onnx exports) stays.
 * - gelu/silu: onnxruntime fuses x·Sigmoid(x) into QuickGelu and the erf formula into Gelu itself, so the profile
 *   shows the same kernels whichever form is emitted.
 * Session settings measured alongside (onnxruntime options, not lowering): graph optimization 'extended' instead of
 * 'all' cost 10–15 % CPU time on the U-Net (no NCHWc convolutions); `session.set_denormal_as_zero` and
 * `session.intra_op.allow_spinning=0` made no difference beyond noise (U-Net; decoder 0.983 on 16 rounds).
 */
export const DEFAULT_LOWERING: Lowering = {
  groupNorm: { default: 'instance-norm', cuda: 'contrib-nhwc' },
  attention: { default: 'decomposed', cpu: 'contrib-mha', cuda: 'contrib-mha' },
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
