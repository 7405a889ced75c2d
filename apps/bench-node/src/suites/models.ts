/**
 * `pnpm bench models` — the SDXS-512 networks at full size (synthetic deterministic weights unless --model DIR):
 * per-stage latency, images/s, peak RSS, session and graph build times, and achieved GFLOP/s against this
 * machine's ONNX Runtime MatMul peak measured in the same run. Then issue 3's load measure for the U-Net.
 *
 * Method:
 * - Each configuration (image size × batch) runs in a fresh child process, so its peak RSS (VmHWM, or getrusage's
 *   maxRSS off Linux) is its own: the three graphs built and their sessions created one after another (a stage's
 *   JS weights and model bytes are dropped before the next is built), then the stages run interleaved as a
 *   pipeline does (text encoder, U-Net, decoder), one warm-up step and `--runs` timed steps; medians reported.
 * - The fused step runs in a second fresh child through @sdxs/pipeline itself (generate calls: text encoder, then
 *   the one-step graph — U-Net + x0 + decoder + RGBA in one session) on the --model folder, or on the synthetic
 *   SDXS-512 written once as a diffusers folder to a temp dir; onnxruntime reads the weights from the folder's
 *   files (`--weights memory` makes the pipeline fill them in JS instead): step_ms = text encoder + one-step
 *   (`step_source: 'fused'`), and peak_rss_mb is that child's. With `--fused off`, step_ms is the sum of the
 *   stage medians (`'sum-of-stages'`) and peak_rss_mb the stage child's. images/s = batch / step.
 * - FLOPs are counted from each graph (models/flops.ts: MatMul, Gemm, Conv, attention; elementwise ignored).
 * - The roofline is a 2048×2048 f32 MatMul in ONNX Runtime (`--matmul N` to change the side), measured in this
 *   process before the children run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openNodeRuntime } from '@sdxs/runtime-node';
import { LOAD_VARIANTS, type LoadResult, type WeightsResult } from '../models/load-check.js';
import type { ConfigResult } from '../models/measure-config.js';
import { parseModelsOptions, targetFor, type ModelsOptions } from '../models/options.js';
import { matmulPeak, type MatmulPeak } from '../models/roofline.js';
import { runInChild } from '../models/spawn.js';

/** A diffusers folder for the fused children: --model, or the synthetic SDXS-512 written once (and removed by `done`). */
async function fusedModel(opts: ModelsOptions, log: (s: string) => void): Promise<{ dir: string; done: () => Promise<void> }> {
  if (opts.model) return { dir: opts.model, done: async () => undefined };
  const root = await mkdtemp(join(tmpdir(), 'sdxs-bench-model-'));
  const done = () => rm(root, { recursive: true, force: true });
  try {
    const dir = join(root, 'sdxs-512-synthetic');
    await runInChild({ kind: 'write-model', dir, seed: opts.seed });
    log(`  fused step: the pipeline on ${dir} (weights ${opts.weights === 'files' ? 'read from its files by onnxruntime' : 'filled in JS'})`);
    return { dir, done };
  } catch (e) {
    await done();
    throw e;
  }
}

/** Issue 3's targets. */
const RSS_TARGET = 1.5;
const SESSION_TARGET = 3;

export interface LoadVariantReport extends LoadResult {
  /** Peak RSS once loaded / the weights' bytes; the target is ≤ 1.5. */
  rss_ratio_loaded: number;
  /** Peak RSS through the first run / the weights' bytes. */
  rss_ratio_after_run: number;
  /** Session creation / reading the weights; the target is ≤ 3. */
  session_ratio: number;
  /** Everything from file to session (bind + serialize + session) / reading the weights. */
  load_ratio: number;
  meets_rss_target: boolean;
  meets_session_target: boolean;
}

export interface LoadCheckReport {
  weight_bytes: number;
  read_ms: number;
  read_samples_ms: number[];
  variants: LoadVariantReport[];
  /** Variants that could not run here, with the reason. */
  failed: { variant: string; error: string }[];
}

export interface ModelsResults {
  options: ModelsOptions;
  matmul: MatmulPeak;
  configurations: ConfigResult[];
  load_check?: LoadCheckReport;
}

const f0 = (x: number) => x.toFixed(0);
const f1 = (x: number) => x.toFixed(1);
/** GFLOP/s: whole numbers, but three digits for the tiny rates of a software GPU. */
const g3 = (x: number) => (x >= 100 ? x.toFixed(0) : x.toPrecision(3));

function logConfig(log: (s: string) => void, r: ConfigResult): void {
  const s = r.stages;
  log(
    `  ${r.width}×${r.height} batch ${r.batch}: text encoder ${f1(r.stages_ms.text_encoder)} ms, U-Net ${f1(r.stages_ms.unet)} ms, decoder ${f1(r.stages_ms.decoder)} ms; ` +
      `step ${f1(r.step_ms)} ms (${r.step_source}), ${r.images_per_s.toFixed(2)} images/s; peak RSS ${f0(r.peak_rss_mb)} MiB`,
  );
  if (r.fused) {
    const f = r.fused;
    log(
      `    fused one-step graph ${f1(f.one_step_ms)} ms (U-Net + decoder as stages: ${f1(r.stages_ms.unet + r.stages_ms.decoder)} ms), ${g3(f.one_step.gflops)} GFLOP/s; ` +
        `session ${f0(f.one_step.session_ms)} ms (weights ${f.weights === 'files' ? `from files, ${f.sessions_from_files} sessions` : 'in memory'}); peak RSS ${f0(f.peak_rss_mb)} MiB (stages child ${f0(r.peak_rss_stages_mb)} MiB)`,
    );
  }
  log(
    `    GFLOP ${f1(s.text_encoder.gflop)} / ${f1(s.unet.gflop)} / ${f1(s.decoder.gflop)} → ${g3(s.text_encoder.gflops)} / ${g3(s.unet.gflops)} / ${g3(s.decoder.gflops)} GFLOP/s ` +
      `(${f0(100 * s.unet.fraction_of_peak)}% of the MatMul peak in the U-Net); sessions ${f0(s.text_encoder.session_ms)} / ${f0(s.unet.session_ms)} / ${f0(s.decoder.session_ms)} ms, ` +
      `graph build ${f0(s.text_encoder.build_ms)} / ${f0(s.unet.build_ms)} / ${f0(s.decoder.build_ms)} ms`,
  );
}

function judge(r: LoadResult, weights: WeightsResult): LoadVariantReport {
  const weightMiB = weights.weight_bytes / 2 ** 20;
  const rssLoaded = r.peak_rss_mb.session / weightMiB;
  const sessionRatio = r.session_ms / weights.read_ms;
  return {
    ...r,
    rss_ratio_loaded: rssLoaded,
    rss_ratio_after_run: r.peak_rss_mb.run / weightMiB,
    session_ratio: sessionRatio,
    load_ratio: (r.bind_ms + r.serialize_ms + r.session_ms) / weights.read_ms,
    meets_rss_target: rssLoaded <= RSS_TARGET,
    meets_session_target: sessionRatio <= SESSION_TARGET,
  };
}

async function loadCheck(log: (s: string) => void, opts: ModelsOptions): Promise<LoadCheckReport> {
  const dir = await mkdtemp(join(tmpdir(), 'sdxs-bench-load-'));
  try {
    const weights = await runInChild({ kind: 'write-weights', dir, seed: opts.seed, reads: 3 });
    const variants: LoadVariantReport[] = [];
    const failed: { variant: string; error: string }[] = [];
    for (const variant of LOAD_VARIANTS) {
      try {
        variants.push(judge(await runInChild({ kind: 'load', variant, dir, ep: opts.ep }), weights));
      } catch (e) {
        // One variant failing (a runtime without file-backed external data, say) must not lose the others.
        failed.push({ variant, error: e instanceof Error ? e.message : String(e) });
      }
    }
    const mib = weights.weight_bytes / 2 ** 20;
    log(`  weights ${f0(mib)} MiB, read in ${f0(weights.read_ms)} ms; targets: peak RSS ≤ ${f0(RSS_TARGET * mib)} MiB, session ≤ ${f0(SESSION_TARGET * weights.read_ms)} ms`);
    for (const v of variants) {
      const ok = (b: boolean) => (b ? 'meets' : 'misses');
      log(
        `  ${v.variant}: peak RSS ${f0(v.peak_rss_mb.session)} MiB loaded (${v.rss_ratio_loaded.toFixed(2)}×, ${ok(v.meets_rss_target)}), ${f0(v.peak_rss_mb.run)} MiB after a run (${v.rss_ratio_after_run.toFixed(2)}×); ` +
          `session ${f0(v.session_ms)} ms (${v.session_ratio.toFixed(2)}× the read, ${ok(v.meets_session_target)}), file→session ${v.load_ratio.toFixed(2)}×; graph build ${f0(v.build_ms)} ms`,
      );
    }
    for (const f of failed) log(`  ${f.variant}: failed — ${f.error.split('\n')[0]}`);
    return { weight_bytes: weights.weight_bytes, read_ms: weights.read_ms, read_samples_ms: weights.read_samples_ms, variants, failed };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Run the suite with its command-line options (see models/options.ts). */
export async function runModels(log: (s: string) => void, args: readonly string[] = []): Promise<ModelsResults> {
  const opts = parseModelsOptions(args);
  // No fallback: a benchmark asked for a GPU must fail here rather than quietly measure the CPU.
  const runtime = await openNodeRuntime({ provider: opts.ep, fallback: false });
  const matmul = await matmulPeak(runtime, targetFor(runtime.provider), Math.max(opts.runs, 10), opts.matmul);
  log(`MatMul ${matmul.n}² f32 on ${runtime.name}: ${g3(matmul.gflops)} GFLOP/s (B as weight ${g3(matmul.weight_b.gflops)}, as input ${g3(matmul.input_b.gflops)})`);
  log(`${opts.model ? `model ${opts.model}` : 'SDXS-512 at full size, synthetic weights'}; ${opts.runs} runs per stage after a warm-up, each configuration in a fresh process`);
  const configurations: ConfigResult[] = [];
  const model = opts.fused ? await fusedModel(opts, log) : undefined;
  try {
    for (const size of opts.sizes) {
      for (const batch of opts.batches) {
        const job = { ep: opts.ep, width: size, height: size, batch, runs: opts.runs, seed: opts.seed, matmulPeakGflops: matmul.gflops };
        let r = await runInChild({ kind: 'config', ...job, ...(opts.model ? { model: opts.model } : {}) });
        if (model) {
          const fused = await runInChild({ kind: 'fused', ...job, model: model.dir, weights: opts.weights });
          r = { ...r, step_ms: fused.step_ms, step_source: 'fused', images_per_s: batch / (fused.step_ms / 1000), peak_rss_mb: fused.peak_rss_mb, fused };
        }
        logConfig(log, r);
        configurations.push(r);
      }
    }
  } finally {
    await model?.done();
  }
  const results: ModelsResults = { options: opts, matmul, configurations };
  if (opts.loadCheck) {
    log('U-Net load (issue 3): f32 weights from a safetensors file to a session, each variant in a fresh process');
    results.load_check = await loadCheck(log, opts);
  }
  return results;
}
