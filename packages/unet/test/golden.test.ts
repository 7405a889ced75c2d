// The U-Net against diffusers on ../shared/golden, through the real loading path (config.json → graph → weights).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { Tensor } from '@sdxs/tensor';
import { openSafetensorsFile } from '@sdxs/tensor/node';
import { bindCheckpoint, toOnnx } from '@sdxs/graph';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { buildUNetGraph, parseUNetConfig, UNET_OUTPUT } from '@sdxs/unet';
import { compareTensors } from '../../../tools/golden/compare.js';
import { caseFile } from '../../../tools/golden/links.js';
import { runCase } from '../../../tools/golden/run.js';

const GOLDEN = fileURLToPath(new URL('../../../../shared/golden/', import.meta.url));

async function readAll(path: string): Promise<Record<string, Tensor>> {
  const file = await openSafetensorsFile(path);
  try {
    const out: Record<string, Tensor> = {};
    for (const name of file.names()) out[name] = await file.read(name);
    return out;
  } finally {
    await file.close();
  }
}

describe('UNet2DConditionModel matches diffusers (float32, 1e-4 of each output’s scale)', () => {
  for (const name of ['unet-sdxs512', 'unet-sd15', 'unet-sdxl']) {
    it(name, async () => {
      const report = await runCase(join(GOLDEN, name));
      for (const c of report.comparisons) console.log(`${name} ${c.output}: max abs ${c.maxAbs.toExponential(2)}, rel ${c.maxRel.toExponential(2)}`);
      expect({ missing: report.missing, unexpected: report.unexpected }).toEqual({ missing: [], unexpected: [] });
      expect(report.comparisons.filter((c) => !c.ok).map((c) => `${c.output}: rel ${c.maxRel} ${c.problem ?? ''}`)).toEqual([]);
      expect(report.comparisons.map((c) => c.output)).toContain('sample');
      expect(report.status).toBe('pass');
    });
  }

  it('controlnet-sdxs512: the U-Net with ControlNet residuals (mid residual on the last down block)', async () => {
    const dir = join(GOLDEN, 'controlnet-sdxs512');
    const unetDir = join(dir, 'unet');
    const config = parseUNetConfig(JSON.parse(await readFile(caseFile(unetDir, 'config.json'), 'utf8')), 'controlnet-sdxs512/unet/config.json');
    const inputs = await readAll(caseFile(dir, 'inputs.safetensors'));
    const ref = await readAll(caseFile(dir, 'outputs.safetensors'));
    const sample = inputs['sample']!;
    const { graph } = buildUNetGraph(config, { batch: sample.shape[0]!, height: sample.shape[2]!, width: sample.shape[3]!, controlnet: true });
    const weights = await openSafetensorsFile(caseFile(unetDir, 'model.safetensors'));
    try {
      await bindCheckpoint(graph, [weights]);
    } finally {
      await weights.close();
    }
    const feeds: Record<string, Tensor> = {
      sample,
      timestep: new Tensor('float32', inputs['timestep']!.shape, Float32Array.from(inputs['timestep']!.toArray())),
      encoder_hidden_states: inputs['encoder_hidden_states']!,
      mid_block_additional_residual: ref['mid_block_res_sample']!,
    };
    const downNames = Object.keys(ref).filter((k) => k.startsWith('down_block_res_samples.'));
    for (const k of downNames) feeds[`down_block_additional_residuals.${k.split('.')[1]}`] = ref[k]!;
    expect(downNames.length).toBe(graph.inputs.filter((v) => v.name.startsWith('down_block_additional_residuals.')).length);
    const session = await createNodeRuntime().createSession(toOnnx(graph));
    try {
      const out = await session.run(feeds);
      const cmp = compareTensors('unet_sample', out[UNET_OUTPUT]!, ref['unet_sample']!, { relative: 1e-4 });
      console.log(`controlnet-sdxs512 unet_sample: max abs ${cmp.maxAbs.toExponential(2)}, rel ${cmp.maxRel.toExponential(2)}`);
      expect(cmp.problem).toBeUndefined();
      expect(cmp.ok).toBe(true);
    } finally {
      await session.dispose();
    }
  });
});
