import { join } from 'node:path';
import { StableDiffusionPipeline } from '@sdxs/pipeline';
import { createNodeRuntime, isProviderName, LocalFolderSource, openNodeRuntime } from '@sdxs/runtime-node';
import type { Runtime } from '@sdxs/tensor';
import type { Tensor } from '@sdxs/tensor';
import { openSafetensorsFile } from '@sdxs/tensor/node';
import { caseFile } from '../links.js';
import { materializeModelFolder } from '../materialize.js';
import type { GoldenCase, KindResult } from '../types.js';

function field<T>(c: GoldenCase, name: string, ok: (v: unknown) => v is T): T {
  const v = c.spec[name];
  if (!ok(v)) throw new Error(`${c.name}/case.json: field "${name}" is missing or malformed: ${JSON.stringify(v)}`);
  return v;
}
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** Seeds the case has images for: its outputs are named `images_seed<seed>` (only the names are read here). */
async function caseSeeds(c: GoldenCase): Promise<number[]> {
  const f = await openSafetensorsFile(caseFile(c.dir, 'outputs.safetensors'));
  try {
    return f
      .names()
      .map((n) => /^images_seed(\d+)$/.exec(n)?.[1])
      .filter((s): s is string => s !== undefined)
      .map(Number);
  } finally {
    await f.close();
  }
}

/**
 * The execution provider the case runs on: the CPU, or the one named by SDXS_GOLDEN_EP (webgpu, cuda), with no
 * fallback — a run that asked for WebGPU must not quietly pass on the CPU.
 */
async function goldenRuntime(): Promise<{ runtime: Runtime; target: 'cpu' | 'webgpu' | 'cuda' }> {
  const ep = process.env.SDXS_GOLDEN_EP ?? 'cpu';
  if (!isProviderName(ep)) throw new Error(`SDXS_GOLDEN_EP=${ep}: expected cpu, webgpu or cuda`);
  if (ep === 'cpu') return { runtime: createNodeRuntime(), target: 'cpu' };
  return { runtime: await openNodeRuntime({ provider: ep, fallback: false }), target: ep };
}

/**
 * `pipeline-t2i`: StableDiffusionPipeline(prompts, height, width, num_inference_steps, guidance_scale,
 * generator=torch.Generator().manual_seed(seed), output_type="np") on the case's diffusers folder, through
 * @sdxs/pipeline's public API; `prompt_embeds` from its text encoder.
 */
export async function runPipelineT2I(c: GoldenCase): Promise<KindResult> {
  const prompts = field(c, 'prompts', isStrings);
  const height = field(c, 'height', isNumber);
  const width = field(c, 'width', isNumber);
  const steps = field(c, 'num_inference_steps', isNumber);
  const guidanceScale = field(c, 'guidance_scale', isNumber);
  const model = materializeModelFolder(join(c.dir, 'model'));
  const outputs = new Map<string, Tensor>();
  try {
    const { runtime, target } = await goldenRuntime();
    const pipe = await StableDiffusionPipeline.load(new LocalFolderSource(model.path), runtime, { target });
    try {
      for (const seed of await caseSeeds(c)) {
        const { float } = await pipe.generate({ prompt: prompts, seed, steps, guidanceScale, width, height, float: true });
        if (!float) throw new Error('the pipeline returned no float image');
        outputs.set(`images_seed${seed}`, float);
      }
      outputs.set('prompt_embeds', await pipe.encodePrompt(prompts));
    } finally {
      await pipe.dispose();
    }
  } finally {
    model.cleanup();
  }
  // Images: within 2/255 per pixel (the bound); embeddings: float32 agreement like text-encoder cases.
  return { outputs, tolerance: (name) => (name === 'prompt_embeds' ? { relative: 1e-4 } : { absolute: 2 / 255 }) };
}
