/**
 * `pnpm bench lora [--model DIR] [--size 512] [--rank 8] [--runs 5]` — what a LoRA adapter costs at inference, merged
 * into the weights (the default) and as graph nodes whose scales switch without a rebuild (`loraMode: 'nodes'`): the
 * run time of one image against the model without an adapter, the first call (graph build and session), and what
 * changing the scale costs each way (merged: a new load and session; nodes: nothing but the next run). The adapter is
 * rank `--rank` on every attention projection of the U-Net (to_q, to_k, to_v, to_out.0: PEFT's usual targets),
 * deterministic weights. Default model: a synthetic SDXS-512 folder (the real architecture, deterministic weights).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StableDiffusionPipeline, type LoadOptions } from '@sdxs/pipeline';
import { createNodeRuntime, LocalFolderSource } from '@sdxs/runtime-node';
import { Generator, SafetensorsFile, type Tensor } from '@sdxs/tensor';
import { writeSafetensorsFile } from '@sdxs/tensor/node';
import { writeSyntheticModel } from '../models/synthetic-folder.js';
import { median } from '../stats.js';
import { option, positiveInt } from '../suite-options.js';

export const LORA_USAGE = 'lora options: --model DIR (default: a synthetic SDXS-512 folder) --size 512 --rank 8 --runs 5';

export interface LoraSide {
  readonly mode: 'none' | 'merge' | 'nodes';
  /** Load + first call (graph build or cache, session creation, one image). */
  readonly first_call_ms: number;
  /** One image, prompt cached, median of the runs. */
  readonly run_ms: number;
  /** Changing the adapter's scale and making the next image: merged reloads, nodes just runs. */
  readonly switch_ms?: number;
}

export interface LoraBenchResult {
  readonly model: string;
  readonly size: number;
  readonly rank: number;
  /** Adapted weights and the adapter's parameters. */
  readonly modules: number;
  readonly adapter_parameters: number;
  readonly sides: LoraSide[];
}

const ATTENTION = /\.(to_q|to_k|to_v|to_out\.0)\.weight$/;

/** A PEFT-layout adapter of rank `rank` on every attention projection of the U-Net of `model`, written to `out`. */
async function writeAdapter(model: string, out: string, rank: number): Promise<{ modules: number; parameters: number }> {
  const unet = await SafetensorsFile.open(await new LocalFolderSource(model).open('unet/diffusion_pytorch_model.safetensors'));
  const tensors = new Map<string, Tensor>();
  const g = new Generator(7);
  let parameters = 0;
  try {
    for (const [key, e] of unet.entries) {
      if (!ATTENTION.test(key) || e.shape.length !== 2) continue;
      const [out, inF] = e.shape as [number, number];
      const module = key.slice(0, -'.weight'.length);
      const scaled = (t: Tensor<'float32'>, s: number) => (t.data.forEach((v, i) => (t.data[i] = v * s)), t);
      tensors.set(`unet.${module}.lora_A.weight`, scaled(g.randn([rank, inF]), 1 / Math.sqrt(inF)));
      tensors.set(`unet.${module}.lora_B.weight`, scaled(g.randn([out, rank]), 0.01));
      parameters += rank * (inF + out);
    }
  } finally {
    await unet.close();
  }
  await writeSafetensorsFile(out, tensors, { format: 'pt' });
  return { modules: tensors.size / 2, parameters };
}

export async function runLora(log: (s: string) => void, args: readonly string[] = []): Promise<LoraBenchResult> {
  const size = positiveInt(args, '--size', 512);
  const rank = positiveInt(args, '--rank', 8);
  const runs = positiveInt(args, '--runs', 5);
  let dir = option(args, '--model');
  const temp = await mkdtemp(join(tmpdir(), 'sdxs-lora-bench-'));
  try {
    if (dir === undefined) {
      dir = join(temp, 'model');
      log('  writing a synthetic SDXS-512 folder…');
      await writeSyntheticModel(dir, 0);
    }
    const { modules, parameters } = await writeAdapter(dir, join(temp, 'adapter.safetensors'), rank);
    const adapter = { source: new LocalFolderSource(temp), file: 'adapter.safetensors' };
    const runtime = createNodeRuntime();
    const request = { prompt: 'a photo of a cat', seed: 1, width: size, height: size, steps: 1, guidanceScale: 0 };
    const side = async (mode: LoraSide['mode']): Promise<LoraSide> => {
      const options: LoadOptions = mode === 'none' ? {} : { lora: [{ ...adapter, scale: 1 }], loraMode: mode };
      const t0 = performance.now();
      let pipe = await StableDiffusionPipeline.load(new LocalFolderSource(dir!), runtime, options);
      try {
        await pipe.generate(request);
        const first = performance.now() - t0;
        const ms: number[] = [];
        for (let i = 0; i < runs; i++) {
          const t1 = performance.now();
          await pipe.generate(request);
          ms.push(performance.now() - t1);
        }
        let switched: number | undefined;
        if (mode !== 'none') {
          const t2 = performance.now();
          if (mode === 'nodes') pipe.setLoraScales([0.5]);
          else {
            await pipe.dispose();
            pipe = await StableDiffusionPipeline.load(new LocalFolderSource(dir!), runtime, { lora: [{ ...adapter, scale: 0.5 }] });
          }
          await pipe.generate(request);
          switched = performance.now() - t2;
        }
        const out: LoraSide = { mode, first_call_ms: first, run_ms: median(ms), ...(switched !== undefined ? { switch_ms: switched } : {}) };
        log(`  ${mode}: first call ${first.toFixed(0)} ms, run ${out.run_ms.toFixed(0)} ms${switched !== undefined ? `, scale switch + next image ${switched.toFixed(0)} ms` : ''}`);
        return out;
      } finally {
        await pipe.dispose();
      }
    };
    log(`  adapter: rank ${rank} on ${modules} attention projections (${(parameters / 1e6).toFixed(2)} M parameters), ${size}² one step`);
    const sides = [await side('none'), await side('merge'), await side('nodes')];
    const [none, merged, nodes] = sides as [LoraSide, LoraSide, LoraSide];
    log(`  run time vs no adapter: merged ${(merged.run_ms / none.run_ms).toFixed(3)}×, nodes ${(nodes.run_ms / none.run_ms).toFixed(3)}×`);
    return { model: option(args, '--model') ?? 'synthetic SDXS-512', size, rank, modules, adapter_parameters: parameters, sides };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
