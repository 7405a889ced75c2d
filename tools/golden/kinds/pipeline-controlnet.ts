import { join } from 'node:path';
import { ControlNetPipeline } from '@sdxs/pipeline';
import { createNodeRuntime, LocalFolderSource } from '@sdxs/runtime-node';
import type { Tensor } from '@sdxs/tensor';
import { readCaseInputs } from '../component.js';
import { materializeModelFolder } from '../materialize.js';
import type { GoldenCase, KindResult } from '../types.js';

function field<T>(c: GoldenCase, name: string, ok: (v: unknown) => v is T): T {
  const v = c.spec[name];
  if (!ok(v)) throw new Error(`${c.name}/case.json: field "${name}" is missing or malformed: ${JSON.stringify(v)}`);
  return v;
}
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isString = (v: unknown): v is string => typeof v === 'string';

/**
 * `pipeline-controlnet`: StableDiffusionControlNetPipeline(prompt, image=control_image_uint8, height, width,
 * controlnet_conditioning_scale, num_inference_steps=1, guidance_scale=0, generator=manual_seed(seed),
 * output_type="np") on the case's diffusers folder (with controlnet/), through @sdxs/pipeline's public API.
 * The control image is passed as is (`raw`): a sketch case stores it already inverted.
 */
export async function runPipelineControlNet(c: GoldenCase): Promise<KindResult> {
  const prompt = field(c, 'prompt', isString);
  const seed = field(c, 'seed', isNumber);
  const height = field(c, 'height', isNumber);
  const width = field(c, 'width', isNumber);
  const controlScale = field(c, 'controlnet_conditioning_scale', isNumber);
  const steps = c.spec['num_inference_steps'] ?? 1;
  const guidanceScale = c.spec['guidance_scale'] ?? 0;
  if (!isNumber(steps) || !isNumber(guidanceScale)) throw new Error(`${c.name}/case.json: num_inference_steps and guidance_scale must be numbers`);
  const control = (await readCaseInputs(c)).get('control_image_uint8');
  if (!control || !(control.data instanceof Uint8Array) || control.shape.length !== 3 || control.shape[2] !== 3) {
    throw new Error(`${c.name}/inputs.safetensors: control_image_uint8 must be uint8 [H, W, 3]`);
  }
  const image = { height: control.shape[0]!, width: control.shape[1]!, data: control.data, channels: 3 as const };
  const model = materializeModelFolder(join(c.dir, 'model'));
  const outputs = new Map<string, Tensor>();
  try {
    const pipe = await ControlNetPipeline.load(new LocalFolderSource(model.path), undefined, createNodeRuntime());
    try {
      const { float } = await pipe.generate({ prompt, image, seed, height, width, controlScale, steps, guidanceScale, float: true });
      if (!float) throw new Error('the pipeline returned no float image');
      outputs.set(`images_seed${seed}`, float);
    } finally {
      await pipe.dispose();
    }
  } finally {
    model.cleanup();
  }
  return { outputs, tolerance: { absolute: 2 / 255 } };
}
