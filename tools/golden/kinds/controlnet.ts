import { Tensor } from '@sdxs/tensor';
import { toOnnx, type Graph } from '@sdxs/graph';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { loadControlNet, toUNetResidualFeeds } from '@sdxs/control';
import { loadUNet, UNET_OUTPUT } from '@sdxs/unet';
import { readCaseInputs } from '../component.js';
import type { GoldenCase, KindResult } from '../types.js';
import { CaseSource, timestepAsFloat32 } from '../case-source.js';

async function run(c: GoldenCase, graph: Graph, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await createNodeRuntime().createSession(toOnnx(graph), { label: c.name });
  try {
    return await session.run(feeds);
  } finally {
    await session.dispose();
  }
}

/**
 * `controlnet`: ControlNetModel(sample, timestep, encoder_hidden_states, controlnet_cond, conditioning_scale) →
 * residuals, then the case's U-Net (unet/) with them added → `unet_sample`; both through the real loading path
 * (config.json → graph → bound weights → onnxruntime), the residuals passed between the two sessions by name.
 */
export async function runControlNet(c: GoldenCase): Promise<KindResult> {
  const inputs = await readCaseInputs(c);
  const [sample, timestep, ehs, cond] = ['sample', 'timestep', 'encoder_hidden_states', 'controlnet_cond'].map((n) => inputs.get(n));
  if (!sample || !timestep || !ehs || !cond) throw new Error(`${c.name}/inputs.safetensors: needs sample, timestep, encoder_hidden_states and controlnet_cond`);
  const scale = c.spec['conditioning_scale'] ?? 1;
  if (typeof scale !== 'number') throw new Error(`${c.name}/case.json: conditioning_scale must be a number`);
  const shape = {
    batch: sample.shape[0]!,
    height: sample.shape[2]!,
    width: sample.shape[3]!,
    sequenceLength: ehs.shape[1]!,
    timestep: timestep.rank === 0 ? ('scalar' as const) : ('batch' as const),
  };
  const source = new CaseSource(c.dir);
  const t = timestepAsFloat32(timestep);
  const controlnet = await loadControlNet(source, '', shape);
  const residuals = await run(c, controlnet.graph, {
    sample,
    timestep: t,
    encoder_hidden_states: ehs,
    controlnet_cond: cond,
    conditioning_scale: new Tensor('float32', [], Float32Array.of(scale)),
  });
  const unet = await loadUNet(source, 'unet', { ...shape, controlnet: true });
  const out = await run(c, unet.graph, { sample, timestep: t, encoder_hidden_states: ehs, ...toUNetResidualFeeds(residuals) });
  const outputs = new Map<string, Tensor>(Object.entries(residuals));
  const unetSample = out[UNET_OUTPUT];
  if (unetSample) outputs.set('unet_sample', unetSample);
  return { outputs, tolerance: { relative: 1e-4 } };
}
