/**
 * Builds a `pipeline-controlnet` case folder, since ../shared/golden has none: a diffusers
 * StableDiffusionControlNetPipeline folder assembled from the shared components (the `pipeline-sdxs512-t2i`
 * model + the `controlnet-sdxs512` ControlNet), a synthetic sketch as the control image, and the expected
 * image computed by an independent path — NOT by diffusers: each network as its own separately tested graph
 * (@sdxs/clip text encoder, @sdxs/control ControlNet, @sdxs/unet U-Net with residual inputs, @sdxs/decoder tiny
 * decoder), residuals handed between sessions, the Euler step in TypeScript (@sdxs/schedulers) and diffusers'
 * postprocessing written out here. What it checks is that the pipeline's fused one-graph assembly (scale,
 * ControlNet, residual wiring, folded step, decode, postprocess) equals the pieces run one by one.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadControlNet, toUNetResidualFeeds } from '@sdxs/control';
import { createNodeRuntime, LocalFolderSource } from '@sdxs/runtime-node';
import { schedulerFromConfig } from '@sdxs/schedulers';
import { Generator, Tensor, type ModelSource } from '@sdxs/tensor';
import { writeSafetensorsFile } from '@sdxs/tensor/node';
import { loadUNet, UNET_OUTPUT } from '@sdxs/unet';
import { resolveGoldenPath } from './links.js';
import { decodeToImage, float32, promptEmbeds, runOnce, scaled } from './unfused.js';

const GOLDEN = fileURLToPath(new URL('../../../shared/golden/', import.meta.url));

export interface ControlNetCaseOptions {
  readonly prompt?: string;
  readonly seed?: number;
  /** Image size (multiples of 8; default 128, as the text-to-image case). */
  readonly height?: number;
  readonly width?: number;
  readonly controlnetConditioningScale?: number;
}

export interface BuiltCase {
  /** The case folder (case.json, model/, inputs.safetensors, outputs.safetensors). */
  readonly dir: string;
  /** The control image as written (H × W × 3, already inverted as a sketch model wants it). */
  readonly controlImage: Uint8Array;
  cleanup(): void;
}

/** A sketch of dark strokes on white, then inverted (white on black), as the SDXS sketch demo passes it. */
export function syntheticSketch(width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  const cx = width / 2;
  const cy = height / 2;
  const r = Math.min(width, height) * 0.3;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const ring = Math.abs(Math.hypot(x - cx, y - cy) - r) < 1.5;
      const diagonal = Math.abs(x - y) < 1.5 && x < width * 0.8;
      const base = y > height * 0.85 && y < height * 0.85 + 3;
      const ink = ring || diagonal || base;
      out.fill(ink ? 255 : 0, (y * width + x) * 3, (y * width + x + 1) * 3); // 255 − (ink ? 0 : 255)
    }
  }
  return out;
}

/** Mirror `from` into `to` with absolute symlinks to the resolved files (golden link files followed). */
function linkTree(from: string, to: string, skip: ReadonlySet<string> = new Set()): void {
  mkdirSync(to, { recursive: true });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    if (skip.has(e.name)) continue;
    if (e.isDirectory()) linkTree(join(from, e.name), join(to, e.name));
    else symlinkSync(resolveGoldenPath(join(from, e.name)), join(to, e.name));
  }
}

/** The model folder: the t2i case's components, model_index.json naming the ControlNet pipeline, controlnet/. */
function writeModel(model: string): void {
  const t2i = join(GOLDEN, 'pipeline-sdxs512-t2i', 'model');
  linkTree(t2i, model, new Set(['model_index.json']));
  const index = JSON.parse(readFileSync(resolveGoldenPath(join(t2i, 'model_index.json')), 'utf8')) as Record<string, unknown>;
  const controlnetIndex = { ...index, _class_name: 'StableDiffusionControlNetPipeline', controlnet: ['diffusers', 'ControlNetModel'] };
  writeFileSync(join(model, 'model_index.json'), JSON.stringify(controlnetIndex, null, 2) + '\n');
  const cn = join(GOLDEN, 'controlnet-sdxs512');
  mkdirSync(join(model, 'controlnet'));
  symlinkSync(resolveGoldenPath(join(cn, 'config.json')), join(model, 'controlnet', 'config.json'));
  symlinkSync(resolveGoldenPath(join(cn, 'model.safetensors')), join(model, 'controlnet', 'diffusion_pytorch_model.safetensors'));
}

/** The reference image [1, H, W, 3] in [0, 1]: the pipeline's computation, one separately tested piece at a time. */
async function reference(source: ModelSource, o: Required<ControlNetCaseOptions>, control: Uint8Array): Promise<Tensor<'float32'>> {
  const runtime = createNodeRuntime({ intraOpThreads: 2 });
  const [h, w] = [o.height / 8, o.width / 8];
  const embeds = await promptEmbeds(runtime, source, [o.prompt]);

  // prepare_latents and the scheduler (EulerDiscreteScheduler, trailing: one step at t = 999).
  const scheduler = schedulerFromConfig(await source.readText('scheduler/scheduler_config.json'), 'scheduler/scheduler_config.json');
  scheduler.setTimesteps(1);
  const t = scheduler.timesteps[0]!;
  const latents = scaled(new Generator(o.seed).randn([1, 4, h, w]), scheduler.initNoiseSigma);
  const sample = scheduler.scaleModelInput(latents, t);
  const timestep = new Tensor('float32', [], Float32Array.of(t));

  // prepare_image (do_normalize=False): v / 255 in float32, NCHW.
  const plane = o.height * o.width;
  const cond = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) cond[c * plane + p] = Math.fround(control[p * 3 + c]! / 255);

  const shape = { batch: 1, height: h, width: w, timestep: 'scalar' as const };
  const controlnet = await loadControlNet(source, 'controlnet', shape);
  const residuals = await runOnce(runtime, controlnet.graph, {
    sample,
    timestep,
    encoder_hidden_states: embeds,
    controlnet_cond: new Tensor('float32', [1, 3, o.height, o.width], cond),
    conditioning_scale: new Tensor('float32', [], Float32Array.of(o.controlnetConditioningScale)),
  });
  const unet = await loadUNet(source, 'unet', { ...shape, controlnet: true });
  const eps = float32((await runOnce(runtime, unet.graph, { sample, timestep, encoder_hidden_states: embeds, ...toUNetResidualFeeds(residuals) }))[UNET_OUTPUT], 'U-Net');
  return decodeToImage(runtime, source, 'vae', scheduler.step(eps, t, latents).prevSample);
}

/**
 * Write a `pipeline-controlnet` case into a new temp folder (see the file comment for how the reference is made).
 *
 * @example
 * const built = await buildControlNetCase({ seed: 7 });
 * try { await runCase(built.dir); } finally { built.cleanup(); }
 */
export async function buildControlNetCase(options: ControlNetCaseOptions = {}): Promise<BuiltCase> {
  const o: Required<ControlNetCaseOptions> = {
    prompt: options.prompt ?? 'a sketch of a round house by a road',
    seed: options.seed ?? 7,
    height: options.height ?? 128,
    width: options.width ?? 128,
    controlnetConditioningScale: options.controlnetConditioningScale ?? 0.8,
  };
  const root = mkdtempSync(join(tmpdir(), 'sdxs-case-'));
  const cleanup = () => rmSync(root, { recursive: true, force: true });
  try {
    const dir = join(root, 'pipeline-controlnet-sdxs512');
    writeModel(join(dir, 'model'));
    const control = syntheticSketch(o.width, o.height);
    const image = await reference(new LocalFolderSource(join(dir, 'model')), o, control);
    const spec = {
      kind: 'pipeline-controlnet',
      prompt: o.prompt,
      seed: o.seed,
      height: o.height,
      width: o.width,
      controlnet_conditioning_scale: o.controlnetConditioningScale,
      num_inference_steps: 1,
      guidance_scale: 0,
      reference:
        'sdxs, not diffusers: text encoder, ControlNet, U-Net and tiny decoder run as separate graphs (residuals passed between sessions), Euler step in TypeScript, postprocess in TypeScript (tools/golden/build-controlnet-case.ts)',
      model: 'model/ (StableDiffusionControlNetPipeline: the pipeline-sdxs512-t2i components + controlnet-sdxs512 as controlnet/)',
    };
    writeFileSync(join(dir, 'case.json'), JSON.stringify(spec, null, 2) + '\n');
    await writeSafetensorsFile(join(dir, 'inputs.safetensors'), { control_image_uint8: new Tensor('uint8', [o.height, o.width, 3], control) });
    await writeSafetensorsFile(join(dir, 'outputs.safetensors'), { [`images_seed${o.seed}`]: image });
    return { dir, controlImage: control, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}
