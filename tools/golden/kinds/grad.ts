import { AutoencoderTiny } from '@sdxs/decoder';
import { Graph, grad, Mul, Params, ReduceSum, Reshape, type BindOptions, type Value } from '@sdxs/graph';
import { Tensor } from '@sdxs/tensor';
import { buildUNetGraph, parseUNetConfig } from '@sdxs/unet';
import { readCaseConfig, readCaseInputs, runComponent } from '../component.js';
import type { GoldenCase, KindResult } from '../types.js';

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

/**
 * `grad`: a component's output under `loss = sum(output · upstream)`, backpropagated by the project's autodiff
 * (`grad(output, [...params, ...inputs], { seed: upstream })`): the loss, every parameter's gradient by checkpoint name
 * (`grad.<name>`) and the inputs' (`grad_input.<name>`), all in one ONNX Runtime session.
 */
export async function runGrad(c: GoldenCase): Promise<KindResult> {
  const component = c.spec['component'];
  const build = typeof component === 'string' ? COMPONENTS[component] : undefined;
  if (!build) throw new Error(`${c.name}/case.json: component ${JSON.stringify(component)} has no gradient graph (known: ${Object.keys(COMPONENTS).join(', ')})`);
  const inputs = await readCaseInputs(c);
  const [upstream] = need(inputs, c, 'upstream') as [Tensor];
  const b = await build(c, inputs);
  const g = b.graph;
  const seed = g.input('upstream', 'float32', staticDims(upstream));
  const params = [...g.parameterNames].map((n) => g.value(n));
  const wrt = [...params, ...b.inputs.values()];
  const grads = grad(b.output, wrt, { seed });
  g.output(Reshape(ReduceSum(Mul(b.output, seed), undefined, false), [1]), 'loss');
  params.forEach((p, i) => g.output(grads[i]!, `grad.${p.name}`));
  [...b.inputs.keys()].forEach((n, i) => g.output(grads[params.length + i]!, `grad_input.${n}`));
  const outputs = await runComponent(c, g, { ...b.feeds, upstream }, b.bind ? () => b.bind! : undefined);
  for (const n of [...outputs.keys()]) if (n !== 'loss' && !n.startsWith('grad.') && !n.startsWith('grad_input.')) outputs.delete(n);
  return { outputs, tolerance: { relative: 1e-4 } };
}
