import { AutoencoderTiny } from '@sdxs/decoder';
import { Graph, grad, Mul, Params, ReduceSum, Reshape, type BindOptions, type Value } from '@sdxs/graph';
import { Tensor, type Session } from '@sdxs/tensor';
import { buildUNetGraph, parseUNetConfig } from '@sdxs/unet';
import { compareTensors } from '../compare.js';
import { readCaseConfig, readCaseInputs, runComponent } from '../component.js';
import { describeFlip, kinkStages, maskFeeds, maskRelus, NEAR_ZERO_ULPS, nearZeroInputs, reluNodes, searchSubgradients, type NearZero } from '../grad/kinks.js';
import { openCaseSession, readCaseOutputs } from '../grad/session.js';
import { moduleScale, structurallyZeroParams } from '../grad/structural-zero.js';
import type { GoldenCase, KindResult, Tolerance } from '../types.js';

// Contrib kernels have no gradient rules: training graphs decompose attention and lower GroupNorm to
// InstanceNormalization (packages/graph/src/grad/backward.ts).
const TRAINING_LOWERING = { attention: 'decomposed', groupNorm: 'instance-norm' } as const;

interface Built {
  graph: Graph;
  output: Value;
  /** Differentiable inputs by the case's input name. */
  inputs: Map<string, Value>;
  feeds: Record<string, Tensor>;
  bind?: BindOptions;
}

function need(inputs: Map<string, Tensor>, c: GoldenCase, ...names: string[]): Tensor[] {
  return names.map((n) => {
    const t = inputs.get(n);
    if (!t) throw new Error(`${c.name}/inputs.safetensors: needs ${names.join(', ')}`);
    return t;
  });
}

function staticDims(t: Tensor): number[] {
  return [...t.shape];
}

async function buildVaeTiny(c: GoldenCase, inputs: Map<string, Tensor>): Promise<Built> {
  const vae = AutoencoderTiny.fromConfig(await readCaseConfig(c), `${c.name}/config.json`);
  const [latents] = need(inputs, c, 'latents') as [Tensor];
  // Static spatial sizes: Conv weight gradients need them.
  const graph = new Graph({ name: c.name, lowering: TRAINING_LOWERING });
  const x = graph.input('latents', 'float32', staticDims(latents));
  const output = vae.decode(new Params(graph), x);
  return { graph, output, inputs: new Map([['latents', x]]), feeds: { latents }, bind: { ignore: [/^encoder\./] } };
}

async function buildUNet(c: GoldenCase, inputs: Map<string, Tensor>): Promise<Built> {
  const config = parseUNetConfig(await readCaseConfig(c), `${c.name}/config.json`);
  const [sample, timestep, ehs] = need(inputs, c, 'sample', 'timestep', 'encoder_hidden_states') as [Tensor, Tensor, Tensor];
  const { graph } = buildUNetGraph(config, {
    name: c.name,
    lowering: TRAINING_LOWERING,
    batch: sample.shape[0]!,
    height: sample.shape[2]!,
    width: sample.shape[3]!,
    sequenceLength: ehs.shape[1]!,
    timestep: timestep.rank === 0 ? 'scalar' : 'batch',
  });
  // The U-Net graph names its prediction `out_sample`; differentiate the value behind that output.
  const output = graph.outputs[0]!;
  // diffusers passes integer timesteps; the graph's input is float32 (exact below 2^24).
  const t = new Tensor('float32', timestep.shape, Float32Array.from(timestep.toArray()));
  return {
    graph,
    output,
    inputs: new Map([
      ['sample', graph.value('sample')],
      ['encoder_hidden_states', graph.value('encoder_hidden_states')],
    ]),
    feeds: { sample, timestep: t, encoder_hidden_states: ehs },
  };
}

const COMPONENTS: Readonly<Record<string, (c: GoldenCase, inputs: Map<string, Tensor>) => Promise<Built>>> = {
  'vae-tiny': buildVaeTiny,
  unet: buildUNet,
};

/** Every gradient must be within 1e-4 of its scale (types.ts, Tolerance). */
const TOLERANCE = 1e-4;

interface Assembled {
  graph: Graph;
  feeds: Record<string, Tensor>;
  /** The graph value each gradient output is the gradient of (a parameter or an input), by output name. */
  sources: Map<string, string>;
}

/** Append the loss, the backward pass and the gradient outputs to a built forward graph. */
function assemble(b: Built, upstream: Tensor): Assembled {
  const g = b.graph;
  const seed = g.input('upstream', 'float32', staticDims(upstream));
  const params = [...g.parameterNames].map((n) => g.value(n));
  const wrt = [...params, ...b.inputs.values()];
  const grads = grad(b.output, wrt, { seed });
  g.output(Reshape(ReduceSum(Mul(b.output, seed), undefined, false), [1]), 'loss');
  const sources = new Map<string, string>();
  params.forEach((p, i) => {
    g.output(grads[i]!, `grad.${p.name}`);
    sources.set(`grad.${p.name}`, p.name);
  });
  [...b.inputs].forEach(([n, v], i) => {
    g.output(grads[params.length + i]!, `grad_input.${n}`);
    sources.set(`grad_input.${n}`, v.name);
  });
  return { graph: g, feeds: { ...b.feeds, upstream }, sources };
}

function keepGradOutputs(outputs: Map<string, Tensor>): Map<string, Tensor> {
  for (const n of [...outputs.keys()]) if (n !== 'loss' && !n.startsWith('grad.') && !n.startsWith('grad_input.')) outputs.delete(n);
  return outputs;
}

/**
 * `grad`: a component's output under `loss = sum(output · upstream)`, backpropagated by the project's autodiff
 * (`grad(output, [...params, ...inputs], { seed: upstream })`): the loss, every parameter's gradient by checkpoint name
 * (`grad.<name>`) and the inputs' (`grad_input.<name>`), all in one ONNX Runtime session, each within 1e-4 of its
 * scale. Two things a float32 reference cannot be compared with that way are handled with proofs, and reported:
 * - gradients that are zero by structure (grad/structural-zero.ts): both sides must be rounding noise next to their
 *   module's gradients;
 * - ReLU inputs within rounding of zero (grad/kinks.ts): only when the plain check fails, our backward pass may be
 *   evaluated with the other subgradient at exactly those positions, and the check is repeated unchanged.
 */
export async function runGrad(c: GoldenCase): Promise<KindResult> {
  const component = c.spec['component'];
  const build = typeof component === 'string' ? COMPONENTS[component] : undefined;
  if (!build) throw new Error(`${c.name}/case.json: component ${JSON.stringify(component)} has no gradient graph (known: ${Object.keys(COMPONENTS).join(', ')})`);
  const inputs = await readCaseInputs(c);
  const [upstream] = need(inputs, c, 'upstream') as [Tensor];
  const reference = await readCaseOutputs(c);

  const b = await build(c, inputs);
  const zero = structurallyZeroParams(b.graph, b.output);
  const tolerance = toleranceFor(zero.keys(), reference);
  const notes: string[] = [];
  const proven = [...zero.keys()].filter((p) => tolerance(`grad.${p}`).zero);
  if (proven.length > 0) {
    notes.push(`${proven.length} gradient(s) zero by structure (a per-channel constant added right before a one-channel-per-group normalisation), checked as rounding noise: ${proven.join(', ')}`);
  }
  const plain = assemble(b, upstream);
  const outputs = keepGradOutputs(await runComponent(c, plain.graph, plain.feeds, b.bind ? () => b.bind! : undefined));
  const failing = (got: ReadonlyMap<string, Tensor>, names: readonly string[]): string[] =>
    names.filter((n) => {
      const a = got.get(n);
      const e = reference.get(n);
      return a !== undefined && e !== undefined && !compareTensors(n, a, e, tolerance(n)).ok;
    });
  const missed = failing(outputs, [...reference.keys()]);
  if (missed.length === 0) return { outputs, tolerance, notes };

  const kinks = await retryAtKinks(c, build, inputs, upstream, plain.sources, outputs, failing);
  notes.push(...kinks.notes);
  return { outputs: kinks.outputs ?? outputs, tolerance, notes };
}

/** Per output: the strict tolerance, or for a proven-zero gradient with a module to measure against, the noise check. */
function toleranceFor(zero: Iterable<string>, reference: ReadonlyMap<string, Tensor>): (output: string) => Tolerance {
  const zeroSet = new Set(zero);
  const byOutput = new Map<string, Tolerance>();
  for (const p of zeroSet) {
    const scale = moduleScale(p, reference, zeroSet);
    if (scale) byOutput.set(`grad.${p}`, { relative: TOLERANCE, zero: scale });
  }
  return (output) => byOutput.get(output) ?? { relative: TOLERANCE };
}

/**
 * The plain check failed: find ReLU inputs within rounding of zero (a forward pass with every ReLU's input as an
 * output), and if there are any, search for the subgradient choice at them under which the check passes
 * (grad/kinks.ts). Returns the outputs to report (none: keep the plain ones) and what to say about it.
 */
async function retryAtKinks(
  c: GoldenCase,
  build: (c: GoldenCase, inputs: Map<string, Tensor>) => Promise<Built>,
  inputs: Map<string, Tensor>,
  upstream: Tensor,
  sources: ReadonlyMap<string, string>,
  plainOutputs: Map<string, Tensor>,
  failing: (got: ReadonlyMap<string, Tensor>, names: readonly string[]) => string[],
): Promise<{ outputs?: Map<string, Tensor>; notes: string[] }> {
  const probe = await build(c, inputs);
  const relus = reluNodes(probe.graph);
  if (relus.length === 0) return { notes: ['no ReLU in the graph: the misses are not subgradient choices'] };
  relus.forEach((r) => probe.graph.output(probe.graph.value(r.inputs[0]!), `relu_input.${r.name}`));
  const probed = await runComponent(c, probe.graph, probe.feeds, probe.bind ? () => probe.bind! : undefined);
  const reluInputs = new Map(relus.map((r) => [r.name, probed.get(`relu_input.${r.name}`)!]));
  const nearZero = relus.flatMap((r) => nearZeroInputs(r.name, reluInputs.get(r.name)!));
  if (nearZero.length === 0) return { notes: [`no ReLU input within rounding of zero (of ${relus.length} ReLUs): the misses are not subgradient choices`] };

  const masked = await build(c, inputs);
  const affected = [...new Set(nearZero.map((z) => z.relu))];
  for (const r of affected) {
    // The rebuilt graph must be the probed one: same node, same input.
    const node = masked.graph.nodes.find((n) => n.name === r);
    if (node?.inputs[0] !== relus.find((n) => n.name === r)?.inputs[0]) throw new Error(`${c.name}: the rebuilt graph's ${r} differs from the probed one`);
  }
  const masks = maskRelus(masked.graph, affected);
  const assembled = assemble(masked, upstream);
  const plan = kinkStages(masked.graph, sources, nearZero);
  // Opened on the first evaluation: a miss no near-zero ReLU can explain fails without one.
  let session: Session | undefined;
  try {
    const evaluate = async (flips: readonly NearZero[]) => {
      session ??= await openCaseSession(c, assembled.graph, masked.bind);
      return keepGradOutputs(new Map(Object.entries(await session.run({ ...assembled.feeds, ...maskFeeds(reluInputs, masks, flips) }))));
    };
    const found = await searchSubgradients(plan, plainOutputs, evaluate, failing);
    const where = `${nearZero.length} ReLU input(s) within rounding of zero (|x| ≤ ${NEAR_ZERO_ULPS}·2⁻²⁴·rms) in ${affected.length} ReLU(s)`;
    if (!found.ok) return { notes: [`${where}; the other subgradient there does not explain the misses: ${found.reason} (${found.evaluations} evaluation(s))`] };
    return {
      outputs: found.outputs,
      notes: [
        `${where}; ${found.flips.length} of them evaluated with the other subgradient (the reference's float32 forward pass evidently rounded them to the other side of zero), the gradients then compared as usual (${found.evaluations} evaluation(s)):`,
        ...found.flips.map((z) => `  ${describeFlip(z)}`),
      ],
    };
  } finally {
    await session?.dispose();
  }
}
