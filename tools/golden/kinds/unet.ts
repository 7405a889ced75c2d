import type { Tensor } from '@sdxs/tensor';
import { openSafetensorsFile } from '@sdxs/tensor/node';
import { toOnnx } from '@sdxs/graph';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { loadUNet, UNET_OUTPUT } from '@sdxs/unet';
import { caseFile } from '../links.js';
import type { GoldenCase, KindResult } from '../types.js';
import { CaseSource, timestepAsFloat32 } from '../case-source.js';

/**
 * `unet`: UNet2DConditionModel(sample, timestep, encoder_hidden_states[, added_cond_kwargs]).sample and the block
 * outputs (`intermediate.*`), through the real loading path: config.json → graph → bound weights → onnxruntime.
 */
export async function runUNet(c: GoldenCase): Promise<KindResult> {
  const file = await openSafetensorsFile(caseFile(c.dir, 'inputs.safetensors'));
  const feeds: Record<string, Tensor> = {};
  try {
    for (const name of file.names()) feeds[name] = await file.read(name);
  } finally {
    await file.close();
  }
  const { sample, timestep, encoder_hidden_states: ehs } = feeds;
  if (!sample || !timestep || !ehs) throw new Error(`${c.name}/inputs.safetensors: needs sample, timestep and encoder_hidden_states`);
  feeds['timestep'] = timestepAsFloat32(timestep);
  if (feeds['time_ids']) feeds['time_ids'] = timestepAsFloat32(feeds['time_ids']);
  const unet = await loadUNet(new CaseSource(c.dir), '', {
    batch: sample.shape[0]!,
    height: sample.shape[2]!,
    width: sample.shape[3]!,
    sequenceLength: ehs.shape[1]!,
    timestep: timestep.rank === 0 ? 'scalar' : 'batch',
    timeIds: feeds['time_ids']?.shape[1],
    taps: true,
  });
  const session = await createNodeRuntime().createSession(toOnnx(unet.graph), { label: c.name });
  try {
    const result = await session.run(feeds);
    const outputs = new Map<string, Tensor>();
    for (const [name, t] of Object.entries(result)) outputs.set(name === UNET_OUTPUT ? 'sample' : name, t);
    return { outputs, tolerance: { relative: 1e-4 } };
  } finally {
    await session.dispose();
  }
}
