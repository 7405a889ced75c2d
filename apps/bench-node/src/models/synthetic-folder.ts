/**
 * The full-size SDXS-512 as a diffusers folder with synthetic weights (model_index.json, unet/, text_encoder/,
 * vae/ with the tiny decoder, tokenizer/, scheduler/): what @sdxs/pipeline loads, so the benchmark can measure the
 * pipeline as users run it — its weights read by onnxruntime from the folder's own safetensors files — without
 * downloading the released model. The weights are bindSynthetic's (deterministic per name and seed).
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Graph } from '@sdxs/graph';
import { DTYPE_BYTES, shapeSize, type Tensor } from '@sdxs/tensor';
import { writeSafetensorsFile } from '@sdxs/tensor/node';
import { CLIP_VIT_L14_TEXT, SDXS512_UNET, SDXS_SCHEDULER_CONFIG, SDXS_TINY_VAE } from './full-size-configs.js';
import { buildStage, syntheticNetworks, type StageName } from './stages.js';

/** CLIP's BPE files, shared by every test and benchmark (the real ones, not golden-store links). */
const CLIP_TOKENIZER = new URL('../../../../../shared/clip-tokenizer/', import.meta.url);

const MODEL_INDEX = {
  _class_name: 'StableDiffusionPipeline',
  scheduler: ['diffusers', 'EulerDiscreteScheduler'],
  text_encoder: ['transformers', 'CLIPTextModel'],
  tokenizer: ['transformers', 'CLIPTokenizer'],
  unet: ['diffusers', 'UNet2DConditionModel'],
  vae: ['diffusers', 'AutoencoderTiny'],
  safety_checker: [null, null],
  feature_extractor: [null, null],
  requires_safety_checker: false,
};

const TOKENIZER_CONFIG = {
  bos_token: '<|startoftext|>',
  eos_token: '<|endoftext|>',
  pad_token: '<|endoftext|>',
  unk_token: '<|endoftext|>',
  do_lower_case: true,
  model_max_length: 77,
  tokenizer_class: 'CLIPTokenizer',
};

/** Where each network goes: folder, weight file, config. */
const COMPONENTS: readonly { stage: StageName; dir: string; file: string; config: object }[] = [
  { stage: 'text_encoder', dir: 'text_encoder', file: 'model.safetensors', config: CLIP_VIT_L14_TEXT },
  { stage: 'unet', dir: 'unet', file: 'diffusion_pytorch_model.safetensors', config: { _class_name: 'UNet2DConditionModel', ...SDXS512_UNET } },
  { stage: 'decoder', dir: 'vae', file: 'diffusion_pytorch_model.safetensors', config: { _class_name: 'AutoencoderTiny', ...SDXS_TINY_VAE } },
];

function parameters(graph: Graph): { tensors: Map<string, Tensor>; bytes: number } {
  const tensors = new Map<string, Tensor>();
  let bytes = 0;
  for (const name of graph.parameterNames) {
    const data = graph.initializers.get(name)?.data;
    if (data === undefined || 'location' in data) throw new Error(`${name} has no synthetic tensor`);
    tensors.set(name, data);
    bytes += shapeSize(data.shape) * DTYPE_BYTES[data.dtype];
  }
  return { tensors, bytes };
}

const json = (path: string, value: unknown) => writeFile(path, `${JSON.stringify(value, null, 2)}\n`);

/**
 * Write the folder into `dir` (created); returns the bytes of f32 weights written per component. Each network is
 * built, written and dropped in turn, so the process holds one network's weights at a time (the U-Net's 1.2 GiB).
 *
 * @example
 * await writeSyntheticModel('/tmp/sdxs-512-synthetic', 0);
 * const pipe = await StableDiffusionPipeline.load(new LocalFolderSource('/tmp/sdxs-512-synthetic'), createNodeRuntime());
 */
export async function writeSyntheticModel(dir: string, seed: number): Promise<Record<StageName, number>> {
  const net = syntheticNetworks();
  const written: Partial<Record<StageName, number>> = {};
  for (const c of COMPONENTS) {
    await mkdir(join(dir, c.dir), { recursive: true });
    await json(join(dir, c.dir, 'config.json'), c.config);
    const { graph } = await buildStage(net, c.stage, { batch: 1, width: 512, height: 512, target: 'cpu', seed });
    const { tensors, bytes } = parameters(graph);
    await writeSafetensorsFile(join(dir, c.dir, c.file), tensors, { format: 'pt' });
    written[c.stage] = bytes;
    globalThis.gc?.();
  }
  await mkdir(join(dir, 'tokenizer'), { recursive: true });
  for (const name of ['vocab.json', 'merges.txt']) await copyFile(new URL(name, CLIP_TOKENIZER), join(dir, 'tokenizer', name));
  await json(join(dir, 'tokenizer', 'tokenizer_config.json'), TOKENIZER_CONFIG);
  await mkdir(join(dir, 'scheduler'), { recursive: true });
  await json(join(dir, 'scheduler', 'scheduler_config.json'), SDXS_SCHEDULER_CONFIG);
  await json(join(dir, 'model_index.json'), MODEL_INDEX);
  return { text_encoder: written.text_encoder ?? 0, unet: written.unet ?? 0, decoder: written.decoder ?? 0 };
}

export interface WriteModelJob {
  kind: 'write-model';
  dir: string;
  seed: number;
}

export interface WriteModelResult {
  kind: 'write-model';
  /** f32 weight bytes per network. */
  weight_bytes: Record<StageName, number>;
}

/** The child job: write the folder, in a process of its own (it holds the U-Net's weights while writing them). */
export async function writeModel(job: WriteModelJob, log: (s: string) => void): Promise<WriteModelResult> {
  const t = performance.now();
  const weightBytes = await writeSyntheticModel(job.dir, job.seed);
  const mib = (Object.values(weightBytes).reduce((a, b) => a + b, 0) / 2 ** 20).toFixed(0);
  log(`wrote the synthetic SDXS-512 folder (${mib} MiB of f32 weights) in ${(performance.now() - t).toFixed(0)} ms`);
  return { kind: 'write-model', weight_bytes: weightBytes };
}
