// `sdxs distill <stage>` for the micro model: where each stage reads and writes under one run folder, and the
// order `all` runs them in. Each stage is a library function too (runVaeStage, runTeacherStage, …).
import { existsSync } from 'node:fs';
import { cp, readFile, rename, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { AutoencoderKL, type AutoencoderKLConfig } from '@sdxs/decoder';
import { realAccuracy, ShapesEvaluator } from '@sdxs/shapes';
import { mapStore } from '../params/store.js';
import type { ModelSource, Tensor } from '@sdxs/tensor';
import { loadSafetensorsFile } from '@sdxs/tensor/node';
import { writeMicroModel } from './export.js';
import { runEvaluatorStage } from './evaluator-stage.js';
import type { StageIO, StageRunOptions } from './loop.js';
import { runTeacherStage, type TeacherWeights } from './teacher-stage.js';
import { microTokenizerFiles } from './tokenizer.js';
import type { CLIPTextConfig } from '@sdxs/clip';
import type { UNet2DConditionConfig } from '@sdxs/unet';
import { measureVae, writeVaeFolder } from './vae-folder.js';
import { runVaeStage } from './vae-stage.js';
import { runTextEncoderStage } from './text-encoder-stage.js';
import { writeComponentFolder } from './folders.js';
import { runVaeDecoderStage } from './vae-decoder-stage.js';
import { readOdePairs, runOdePairsStage, type OdePairsOptions } from './ode-pairs.js';
import { readMicroModel } from './model-folder.js';
import { runOneStepStage, type OneStepLoss } from './one-step-stage.js';
import { runSketchStage } from './sketch-stage.js';
import { runDiffInstructStage } from './diff-instruct-stage.js';
import { castWeights, DIFFUSERS_VERSION } from './export.js';

export const MICRO_STAGES = ['evaluator', 'vae', 'vae-decoder', 'text-encoder', 'teacher'] as const;
export type MicroStage = (typeof MICRO_STAGES)[number];

/** Where the stages of one run live under `root`. */
export function microPaths(root: string) {
  return {
    evaluatorRun: join(root, 'evaluator'),
    evaluator: join(root, 'evaluator', 'evaluator'),
    vaeRun: join(root, 'vae'),
    vaeDecoderRun: join(root, 'vae-decoder'),
    vae: join(root, 'vae', 'vae'),
    textEncoderRun: join(root, 'text-encoder'),
    /** The pre-trained text encoder (config.json + model.safetensors), the teacher's starting point. */
    textEncoder: join(root, 'text-encoder', 'text_encoder'),
    teacherRun: join(root, 'teacher'),
    /** The trained model, a diffusers folder (float16). */
    model: join(root, 'model'),
    /** The teacher's noise → latents pairs (pairs-00000.safetensors, …), the one-step stages' data. */
    odePairs: join(root, 'ode-pairs'),
    oneStepRun: join(root, 'one-step'),
    /** The one-step model: the teacher's folder with the student's U-Net, and the sketch ControlNet in controlnet/. */
    oneStepModel: join(root, 'one-step-model'),
    sketchRun: join(root, 'sketch'),
    diffInstructRun: join(root, 'diff-instruct'),
    /** The student after feature matching alone, kept when Diff-Instruct refines one-step-model/ (the ablation). */
    featureMatchingModel: join(root, 'one-step-fm-model'),
    report: join(root, 'report.json'),
  };
}

/** A stage's options, with the run folder in place of the stage's own folder (which follows from the stage). */
export interface MicroStageOptions extends Omit<StageRunOptions, 'out'> {
  /** The run folder (runs/micro in the CLI). */
  root: string;
}

async function readVae(dir: string): Promise<{ config: AutoencoderKLConfig; weights: Map<string, Tensor> }> {
  const file = join(dir, 'config.json');
  const text = await readFile(file, 'utf8').catch(() => {
    throw new Error(`${file}: not found; run \`sdxs distill vae\` first`);
  });
  return { config: AutoencoderKL.fromConfig(JSON.parse(text), file).config, weights: await readWeights(join(dir, 'diffusion_pytorch_model.safetensors')) };
}

async function readWeights(file: string): Promise<Map<string, Tensor>> {
  if (!existsSync(file)) throw new Error(`${file}: not found; run the stage that writes it first`);
  return (await loadSafetensorsFile(file)).tensors;
}

/** Run one stage; returns what it measured (also written to the run's report.json by the CLI). */
export async function runMicroStage(stage: MicroStage, o: MicroStageOptions, io: StageIO): Promise<Record<string, unknown>> {
  const p = microPaths(o.root);
  const { root: _root, ...common } = o;
  if (stage === 'evaluator') {
    const r = await runEvaluatorStage({ ...common, out: p.evaluatorRun }, io);
    const ev = await ShapesEvaluator.create(o.runtime, r.config, [mapStore('evaluator', r.weights)]);
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
  if (stage === 'vae-decoder') {
    const vae = await readVae(p.vae);
    const before = await measureVae(o.runtime, vae.config, vae.weights);
    const r = await runVaeDecoderStage({ ...common, out: p.vaeDecoderRun, vae: { config: vae.config, weights: vae.weights } }, io);
    const after = await measureVae(o.runtime, vae.config, r.weights);
    // The encoder is untouched, so the latents and the scaling factor stay those of the vae stage.
    if (r.finished) await writeVaeFolder(p.vae, vae.config, r.weights, vae.config.scaling_factor);
    io.log(`vae-decoder: held-out PSNR ${before.psnr.toFixed(2)} → ${after.psnr.toFixed(2)} dB on ${after.count} test images${r.finished ? `; written to ${p.vae}` : ''}`);
    return { stage, steps: r.step, finished: r.finished, seconds: r.seconds, folder: p.vae, psnr_before_db: before.psnr, psnr_db: after.psnr };
  }
  if (stage === 'text-encoder') {
    const r = await runTextEncoderStage({ ...common, out: p.textEncoderRun }, io);
    if (r.finished) await writeComponentFolder(p.textEncoder, r.config, r.weights, 'model.safetensors');
    io.log(`text-encoder: final loss ${r.lastLoss.toPrecision(3)} (sum of the three attribute cross-entropies)${r.finished ? `; written to ${p.textEncoder}` : ''}`);
    return { stage, steps: r.step, finished: r.finished, seconds: r.seconds, folder: p.textEncoder, loss: r.lastLoss };
  }
  const { config: vaeConfig, weights: vaeWeights } = await readVae(p.vae);
  const textEncoderWeights = await readWeights(join(p.textEncoder, 'model.safetensors')).catch(() => {
    throw new Error(`${join(p.textEncoder, 'model.safetensors')}: not found; run \`sdxs distill text-encoder\` first`);
  });
  const tokenizer = microTokenizerFiles();
  const exportModel = (w: TeacherWeights, c: { textEncoder: CLIPTextConfig; unet: UNet2DConditionConfig }) =>
    writeMicroModel(p.model, { tokenizer, textEncoder: { config: c.textEncoder, weights: w.textEncoder }, unet: { config: c.unet, weights: w.unet }, vae: { config: vaeConfig, weights: vaeWeights } });
  // Each checkpoint also refreshes the model folder, so `sdxs eval` can score the run while it trains.
  const r = await runTeacherStage({ ...common, out: p.teacherRun, vae: { config: vaeConfig, weights: vaeWeights }, textEncoderWeights, onCheckpoint: (_step, w, c) => exportModel(w, c) }, io);
  await exportModel(r.weights, r);
  io.log(`teacher: ${r.step} steps; the model is in ${p.model}`);
  return { stage, steps: r.step, finished: r.finished, seconds: r.seconds, folder: p.model, loss: r.lastLoss };
}

/** `sdxs distill ode-pairs`: the run's options, the teacher read from the run's model folder. */
export interface MicroOdePairsOptions extends Omit<OdePairsOptions, 'out' | 'teacher'> {
  /** The run folder (runs/micro in the CLI). */
  root: string;
  /** A model folder on disk as a ModelSource (Node: `(dir) => new LocalFolderSource(dir)`; distill does no file-source I/O of its own). */
  openFolder(dir: string): ModelSource;
}

/** Make (this worker's share of) the teacher ODE pairs of a run: the run's model → `ode-pairs/`. Not part of `all` yet. */
export async function runMicroOdePairs(o: MicroOdePairsOptions, io: StageIO): Promise<Record<string, unknown>> {
  const p = microPaths(o.root);
  if (!existsSync(join(p.model, 'model_index.json'))) throw new Error(`${p.model}: no trained model; run \`sdxs distill teacher\` first`);
  const { root: _root, openFolder, ...rest } = o;
  const r = await runOdePairsStage({ ...rest, out: p.odePairs, teacher: openFolder(p.model) }, io);
  io.log(`ode-pairs: ${r.made.length} shard(s) made, ${r.skipped.length} there already, of ${r.shards}; in ${p.odePairs}`);
  return { stage: 'ode-pairs', finished: r.finished, seconds: r.seconds, folder: p.odePairs, shards: r.shards, made: r.made, skipped: r.skipped };
}

export interface MicroOneStepOptions extends MicroStageOptions {
  /** 'feature-matching' (default) or the ablation 'mse' (written to one-step-mse/ and one-step-model-mse/). */
  loss?: OneStepLoss;
}

/**
 * `sdxs distill one-step`: the block-removed one-step student trained on the run's ODE pairs (feature-matching
 * warm-up), written as a model folder beside the teacher's.
 */
export async function runMicroOneStep(o: MicroOneStepOptions, io: StageIO): Promise<Record<string, unknown>> {
  const p = microPaths(o.root);
  const { root: _root, loss, ...common } = o;
  const suffix = loss === 'mse' ? '-mse' : '';
  const [run, model] = [p.oneStepRun + suffix, p.oneStepModel + suffix];
  const teacher = await readMicroModel(p.model);
  const pairs = await readOdePairs(p.odePairs).catch((e: Error) => {
    throw new Error(`${e.message}${/not found|no shard|ENOENT/i.test(e.message) ? '; run `sdxs distill ode-pairs` first' : ''}`);
  });
  const tokenizer = microTokenizerFiles();
  const exportModel = (weights: ReadonlyMap<string, Tensor>, unet: UNet2DConditionConfig) =>
    writeMicroModel(model, { tokenizer, textEncoder: teacher.textEncoder, unet: { config: unet, weights }, vae: teacher.vae });
  const r = await runOneStepStage({ ...common, out: run, teacher, pairs, ...(loss ? { loss } : {}), onCheckpoint: (_s, w, c) => exportModel(w, c) }, io);
  await exportModel(r.weights, r.student);
  io.log(`one-step: ${r.step} steps; the one-step model is in ${model} (score it: sdxs eval --model ${model} --steps 1 --guidance 0)`);
  return { stage: 'one-step', steps: r.step, finished: r.finished, seconds: r.seconds, folder: model, loss: r.lastLoss, inherited_tensors: r.inherited, fresh_tensors: r.fresh };
}

/** `sdxs distill sketch`: the one-step sketch ControlNet for the one-step model, written to its controlnet/ folder. */
export async function runMicroSketch(o: MicroStageOptions, io: StageIO): Promise<Record<string, unknown>> {
  const p = microPaths(o.root);
  const { root: _root, ...common } = o;
  const teacher = await readMicroModel(p.model);
  const student = await readMicroModel(p.oneStepModel).catch((e: Error) => {
    throw new Error(`${e.message}; run \`sdxs distill one-step\` first`);
  });
  const folder = join(p.oneStepModel, 'controlnet');
  const exportControlNet = async (weights: ReadonlyMap<string, Tensor>, config: unknown) => {
    await writeComponentFolder(folder, { ...(config as object), _diffusers_version: DIFFUSERS_VERSION }, castWeights(weights, 'float16'), 'diffusion_pytorch_model.safetensors');
    await declareControlNet(p.oneStepModel);
  };
  const r = await runSketchStage({ ...common, out: p.sketchRun, teacher, student: student.unet, onCheckpoint: (_s, w, c) => exportControlNet(w, c) }, io);
  await exportControlNet(r.weights, r.config);
  io.log(`sketch: ${r.step} steps; the ControlNet is in ${folder}`);
  return { stage: 'sketch', steps: r.step, finished: r.finished, seconds: r.seconds, folder, loss: r.lastLoss };
}

/**
 * Make a model folder a StableDiffusionControlNetPipeline (its controlnet/ listed in model_index.json), as the SDXS
 * sketch repos are: the same folder then serves text-to-image and sketch-to-image.
 */
async function declareControlNet(dir: string): Promise<void> {
  const file = join(dir, 'model_index.json');
  const index = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  if (index['controlnet'] !== undefined && index['_class_name'] === 'StableDiffusionControlNetPipeline') return;
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify({ ...index, _class_name: 'StableDiffusionControlNetPipeline', controlnet: ['diffusers', 'ControlNetModel'] }, null, 2) + '\n');
  await rename(tmp, file);
}

/**
 * `sdxs distill diff-instruct`: segmented Diff-Instruct on the warmed-up student of one-step-model/, which it then
 * replaces (the feature-matching-only student is kept in one-step-fm-model/ for the ablation). Run before `sketch`.
 */
export async function runMicroDiffInstruct(o: MicroStageOptions, io: StageIO): Promise<Record<string, unknown>> {
  const p = microPaths(o.root);
  const { root: _root, ...common } = o;
  const teacher = await readMicroModel(p.model);
  if (!existsSync(join(p.featureMatchingModel, 'model_index.json'))) {
    if (!existsSync(join(p.oneStepModel, 'model_index.json'))) throw new Error(`${p.oneStepModel}: no one-step model; run \`sdxs distill one-step\` first`);
    await cp(p.oneStepModel, p.featureMatchingModel, { recursive: true, filter: (src) => !src.includes(`${sep}controlnet`) });
    await writeFile(join(p.featureMatchingModel, 'model_index.json'), JSON.stringify({ ...JSON.parse(await readFile(join(p.featureMatchingModel, 'model_index.json'), 'utf8')), _class_name: 'StableDiffusionPipeline', controlnet: undefined }, null, 2) + '\n');
  }
  const start = await readMicroModel(p.featureMatchingModel);
  const pairs = await readOdePairs(p.odePairs);
  const tokenizer = microTokenizerFiles();
  const exportModel = (weights: ReadonlyMap<string, Tensor>, unet: UNet2DConditionConfig) =>
    writeMicroModel(p.oneStepModel, { tokenizer, textEncoder: teacher.textEncoder, unet: { config: unet, weights }, vae: teacher.vae });
  const r = await runDiffInstructStage({ ...common, out: p.diffInstructRun, teacher, student: start.unet, pairs, onCheckpoint: (_s, w, c) => exportModel(w, c) }, io);
  await exportModel(r.weights, r.student);
  io.log(`diff-instruct: ${r.step} steps; the one-step model in ${p.oneStepModel} (feature matching alone: ${p.featureMatchingModel})`);
  return { stage: 'diff-instruct', steps: r.step, finished: r.finished, seconds: r.seconds, folder: p.oneStepModel, loss: r.lastLoss };
}
