// `sdxs distill <stage>` for the micro model: where each stage reads and writes under one run folder, and the
// order `all` runs them in. Each stage is a library function too (runVaeStage, runTeacherStage, …).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AutoencoderKL } from '@sdxs/decoder';
import { realAccuracy, ShapesEvaluator } from '@sdxs/shapes';
import type { Runtime, Tensor } from '@sdxs/tensor';
import { loadSafetensorsFile } from '@sdxs/tensor/node';
import { writeMicroModel } from './export.js';
import { runEvaluatorStage } from './evaluator-stage.js';
import type { StageIO } from './loop.js';
import { microTokenizerFiles, runTeacherStage, type TeacherWeights } from './teacher-stage.js';
import type { CLIPTextConfig } from '@sdxs/clip';
import type { UNet2DConditionConfig } from '@sdxs/unet';
import { measureVae, writeVaeFolder } from './vae-folder.js';
import { runVaeStage } from './vae-stage.js';

export const MICRO_STAGES = ['evaluator', 'vae', 'teacher'] as const;
export type MicroStage = (typeof MICRO_STAGES)[number];

/** Where the stages of one run live under `root`. */
export function microPaths(root: string) {
  return {
    evaluatorRun: join(root, 'evaluator'),
    evaluator: join(root, 'evaluator', 'evaluator'),
    vaeRun: join(root, 'vae'),
    vae: join(root, 'vae', 'vae'),
    teacherRun: join(root, 'teacher'),
    /** The trained model, a diffusers folder (float16). */
    model: join(root, 'model'),
    report: join(root, 'report.json'),
  };
}

export interface MicroStageOptions {
  /** The run folder (default runs/micro). */
  root: string;
  runtime: Runtime;
  steps?: number;
  batch?: number;
  lr?: number;
  minutes?: number;
  resume?: boolean;
  seed?: number;
}

/** A small local ModelSource over a folder, for the evaluator (distill stays free of runtime-node). */
function folderSource(dir: string) {
  return {
    id: dir,
    exists: async (p: string) => existsSync(join(dir, p)),
    readText: (p: string) => readFile(join(dir, p), 'utf8'),
    open: async (p: string) => {
      const bytes = await readFile(join(dir, p));
      return { name: join(dir, p), size: bytes.length, read: async (o: number, n: number) => bytes.subarray(o, o + n) };
    },
  };
}

async function readWeights(file: string): Promise<Map<string, Tensor>> {
  if (!existsSync(file)) throw new Error(`${file}: not found; run the stage that writes it first`);
  return (await loadSafetensorsFile(file)).tensors;
}

/** Run one stage; returns what it measured (also written to the run's report.json by the CLI). */
export async function runMicroStage(stage: MicroStage, o: MicroStageOptions, io: StageIO): Promise<Record<string, unknown>> {
  const p = microPaths(o.root);
  const common = { runtime: o.runtime, steps: o.steps, batch: o.batch, lr: o.lr, minutes: o.minutes, resume: o.resume, seed: o.seed };
  if (stage === 'evaluator') {
    const r = await runEvaluatorStage({ ...common, out: p.evaluatorRun }, io);
    const ev = await ShapesEvaluator.load(o.runtime, folderSource(p.evaluator), '');
    try {
      const acc = await realAccuracy(ev, 2000);
      io.log(`evaluator: held-out accuracy ${(100 * acc.accuracy).toFixed(2)} % (shape ${(100 * acc.shapeAccuracy).toFixed(2)}, colour ${(100 * acc.colorAccuracy).toFixed(2)}, background ${(100 * acc.backgroundAccuracy).toFixed(2)}) on ${acc.count} test images`);
      return { stage, steps: r.step, finished: r.finished, seconds: r.seconds, folder: p.evaluator, heldout: acc };
    } finally {
      await ev.dispose();
    }
  }
  if (stage === 'vae') {
    const r = await runVaeStage({ ...common, out: p.vaeRun }, io);
    const weights = await readWeights(join(r.checkpoint, 'vae', 'diffusion_pytorch_model.safetensors'));
    const m = await measureVae(o.runtime, r.config, weights);
    await writeVaeFolder(p.vae, r.config, weights, m.scalingFactor);
    io.log(`vae: held-out PSNR ${m.psnr.toFixed(2)} dB on ${m.count} test images; scaling_factor ${m.scalingFactor.toPrecision(5)}; written to ${p.vae}`);
    return { stage, steps: r.step, finished: r.finished, seconds: r.seconds, folder: p.vae, psnr_db: m.psnr, scaling_factor: m.scalingFactor };
  }
  const vaeConfig = AutoencoderKL.fromConfig(JSON.parse(await readFile(join(p.vae, 'config.json'), 'utf8').catch(() => {
    throw new Error(`${join(p.vae, 'config.json')}: not found; run \`sdxs distill vae\` first`);
  })), join(p.vae, 'config.json')).config;
  const vaeWeights = await readWeights(join(p.vae, 'diffusion_pytorch_model.safetensors'));
  const tokenizer = microTokenizerFiles();
  const exportModel = (w: TeacherWeights, c: { textEncoder: CLIPTextConfig; unet: UNet2DConditionConfig }) =>
    writeMicroModel(p.model, { tokenizer, textEncoder: { config: c.textEncoder, weights: w.textEncoder }, unet: { config: c.unet, weights: w.unet }, vae: { config: vaeConfig, weights: vaeWeights } });
  // Each checkpoint also refreshes the model folder, so `sdxs eval` can score the run while it trains.
  const r = await runTeacherStage({ ...common, out: p.teacherRun, vae: { config: vaeConfig, weights: vaeWeights }, onCheckpoint: (_step, w, c) => exportModel(w, c) }, io);
  await exportModel(r.weights, r);
  io.log(`teacher: ${r.step} steps; the model is in ${p.model}`);
  return { stage, steps: r.step, finished: r.finished, seconds: r.seconds, folder: p.model, loss: r.lastLoss };
}
