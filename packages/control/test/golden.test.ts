// ControlNetModel and Canny against diffusers / OpenCV on ../shared/golden, through the real loading path
// (config.json → graph → weights → onnxruntime) used by the golden runner.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Tensor } from '@sdxs/tensor';
import { openSafetensorsFile } from '@sdxs/tensor/node';
import { bindCheckpoint, Graph, Params, toOnnx, type TensorStore } from '@sdxs/graph';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { parseUNetConfig, unet2DCondition } from '@sdxs/unet';
import { controlNetModel, parseControlNetConfig } from '@sdxs/control';
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

describe('golden cases', () => {
  for (const name of ['controlnet-sdxs512', 'canny-opencv']) {
    it(name, async () => {
      const report = await runCase(join(GOLDEN, name));
      for (const c of report.comparisons) {
        console.log(`${name} ${c.output}: max abs ${c.maxAbs.toExponential(2)}, rel ${c.maxRel.toExponential(2)}${c.tolerance.exact ? `, ${c.mismatched} pixels differ` : ''}`);
      }
      expect({ missing: report.missing, unexpected: report.unexpected }).toEqual({ missing: [], unexpected: [] });
      expect(report.comparisons.filter((c) => !c.ok).map((c) => `${c.output}: rel ${c.maxRel} ${c.problem ?? ''}`)).toEqual([]);
      expect(report.comparisons.length).toBeGreaterThanOrEqual(8);
      expect(report.status).toBe('pass');
    });
  }

  it('controlnet-sdxs512 in one graph: ControlNet residuals wired straight into the U-Net (mid residual on the last down block)', async () => {
    const dir = join(GOLDEN, 'controlnet-sdxs512');
    const config = parseControlNetConfig(JSON.parse(readFileSync(caseFile(dir, 'config.json'), 'utf8')), 'controlnet-sdxs512/config.json');
    const unetConfig = parseUNetConfig(JSON.parse(readFileSync(caseFile(join(dir, 'unet'), 'config.json'), 'utf8')), 'controlnet-sdxs512/unet/config.json');
    expect(unetConfig.mid_block_type).toBeNull();
    const inputs = await readAll(caseFile(dir, 'inputs.safetensors'));
    const ref = await readAll(caseFile(dir, 'outputs.safetensors'));
    const [sample, timestep, ehs, cond] = [inputs['sample']!, inputs['timestep']!, inputs['encoder_hidden_states']!, inputs['controlnet_cond']!];

    const g = new Graph({ name: 'controlnet+unet' });
    const x = g.input('sample', 'float32', sample.shape);
    const t = g.input('timestep', 'float32', timestep.shape);
    const ctx = g.input('encoder_hidden_states', 'float32', ehs.shape);
    const c = g.input('controlnet_cond', 'float32', cond.shape);
    const res = controlNetModel(new Params(g, 'controlnet'), config, { sample: x, timestep: t, encoderHiddenStates: ctx, controlnetCond: c, conditioningScale: 0.8 });
    const out = unet2DCondition(new Params(g, 'unet'), unetConfig, {
      sample: x,
      timestep: t,
      encoderHiddenStates: ctx,
      downBlockAdditionalResiduals: res.downResiduals,
      midBlockAdditionalResidual: res.midResidual,
    });
    g.output(out.sample, 'unet_sample');
    g.output(res.midResidual, 'mid_block_res_sample');

    // Two checkpoints in one graph: each file's keys under its module root.
    const files = [await openSafetensorsFile(caseFile(dir, 'model.safetensors')), await openSafetensorsFile(caseFile(join(dir, 'unet'), 'model.safetensors'))];
    const prefixed = (f: TensorStore, root: string): TensorStore => ({
      name: f.name,
      entries: new Map([...f.entries].map(([k, v]) => [`${root}.${k}`, v])),
      read: (n) => f.read(n.slice(root.length + 1)),
    });
    try {
      await bindCheckpoint(g, [prefixed(files[0]!, 'controlnet'), prefixed(files[1]!, 'unet')]);
    } finally {
      await Promise.all(files.map((f) => f.close()));
    }
    const session = await createNodeRuntime().createSession(toOnnx(g));
    try {
      const got = await session.run({
        sample,
        timestep: new Tensor('float32', timestep.shape, Float32Array.from(timestep.toArray())),
        encoder_hidden_states: ehs,
        controlnet_cond: cond,
      });
      for (const name of ['unet_sample', 'mid_block_res_sample']) {
        const cmp = compareTensors(name, got[name]!, ref[name]!, { relative: 1e-4 });
        console.log(`controlnet-sdxs512 fused ${name}: max abs ${cmp.maxAbs.toExponential(2)}, rel ${cmp.maxRel.toExponential(2)}`);
        expect(cmp.problem).toBeUndefined();
        expect(cmp.ok).toBe(true);
      }
    } finally {
      await session.dispose();
    }
  });
});
