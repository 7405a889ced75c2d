/**
 * The whole SDXS step as users run it: @sdxs/pipeline's StableDiffusionPipeline on a diffusers folder (`--model`,
 * or the synthetic full-size SDXS-512 the suite writes once), one-step generate calls — text encoder, then the
 * fused graph (U-Net at t = 999, x0 folded into constants, tiny decoder, RGBA bytes). Measured in a fresh child
 * process like a configuration, so its peak RSS is the pipeline's own (two sessions: text encoder and one-step).
 * With `weights: 'files'` onnxruntime reads the weights from the folder's safetensors files (the pipeline's
 * path on a local folder); `'memory'` hides that capability, so the pipeline fills weight blobs in JS instead.
 */
import { newScheduler, oneStepGraph, StableDiffusionPipeline, type ProgressEvent } from '@sdxs/pipeline';
import { LocalFolderSource, openNodeRuntime } from '@sdxs/runtime-node';
import type { Runtime } from '@sdxs/tensor';
import { median } from '../stats.js';
import { countFlops } from './flops.js';
import { targetFor, type Ep } from './options.js';
import { sampleRss } from './rss.js';

export interface FusedJob {
  kind: 'fused';
  ep: Ep;
  width: number;
  height: number;
  batch: number;
  runs: number;
  seed: number;
  /** A diffusers folder: `--model`, or the synthetic SDXS-512 folder the suite wrote. */
  model: string;
  /** Where the sessions' weights come from (see the file comment). */
  weights: 'files' | 'memory';
  matmulPeakGflops: number;
}

export interface FusedResult {
  kind: 'fused';
  runtime: string;
  weights: 'files' | 'memory';
  /** Sessions whose weights onnxruntime read from the model's files (2 on the files path, 0 otherwise). */
  sessions_from_files: number;
  /** Text encoder median, ms (each run encodes a new prompt). */
  text_encoder_ms: number;
  /** The fused one-step graph (U-Net + x0 + decoder + RGBA) median, ms. */
  one_step_ms: number;
  /** text_encoder_ms + one_step_ms: prompt to pixels. */
  step_ms: number;
  /** Whole generate calls (prompt to RGBA images, noise drawn and images split included) median, ms. */
  generate_ms: number;
  one_step: {
    parameters: number;
    gflop: number;
    /** The pipeline building and serializing the graph. */
    build_ms: number;
    /** Weights bound (blobs filled, or file paths given) and the session created. */
    session_ms: number;
    samples_ms: number[];
    gflops: number;
    fraction_of_peak: number;
  };
  /** Peak RSS over the whole child, MiB. */
  peak_rss_mb: number;
  /** Peak RSS after the warm-up generate call (both sessions created, each run once), MiB. */
  peak_rss_after_warmup_mb: number;
  rss_end_mb: number;
}

/** `inner` without its capabilities: the pipeline sees a runtime that takes external data as bytes only. */
function bytesOnly(inner: Runtime): Runtime {
  return { name: inner.name, createSession: (model, options) => inner.createSession(model, options) };
}

/** FLOPs and parameters of the pipeline's one-step graph, built again unbound (no weights: cheap). */
function countOneStep(pipe: StableDiffusionPipeline, job: FusedJob): { parameters: number; gflop: number } {
  const c = pipe.components;
  // The step the pipeline folds into its graph: its scheduler's coefficients at the one timestep.
  const scheduler = newScheduler(c);
  scheduler.setTimesteps(1);
  const k = scheduler.stepCoefficients(scheduler.timesteps[0]!);
  const step = { timestep: k.timestep, inputDivisor: k.inputDivisor, x0Coef: k.x0Coef, prevCoef: k.prevCoef };
  const f = c.vae.spatialFactor;
  const graph = oneStepGraph(
    { config: c.unetConfig, contextDim: c.textConfig.hidden_size, contextLength: c.tokenizer.maxLength },
    c.vae,
    step,
    { batch: job.batch, latentHeight: job.height / f, latentWidth: job.width / f, guidance: false },
    pipe.settings,
  );
  return { parameters: graph.parameterCount(), gflop: countFlops(graph).total / 1e9 };
}

/** Measure the pipeline's text encoder and fused one-step graph; `log` gets a line per phase. */
export async function measureFused(job: FusedJob, log: (s: string) => void): Promise<FusedResult> {
  const inner = await openNodeRuntime({ provider: job.ep, fallback: false });
  const runtime = job.weights === 'files' ? inner : bytesOnly(inner);
  const oneStep: { build_ms: number; session_ms: number } = { build_ms: 0, session_ms: 0 };
  const onProgress = (e: ProgressEvent) => {
    if (e.stage === 'build' && e.graph === 'one-step' && e.ms !== undefined) oneStep.build_ms = e.ms;
    if (e.stage === 'session' && e.graph === 'one-step' && e.ms !== undefined) oneStep.session_ms = e.ms;
  };
  const pipe = await StableDiffusionPipeline.load(new LocalFolderSource(job.model), runtime, { target: targetFor(inner.provider), onProgress });
  try {
    const textMs: number[] = [];
    const stepMs: number[] = [];
    const totalMs: number[] = [];
    let afterWarmup = 0;
    for (let r = -1; r < job.runs; r++) {
      // A new prompt each run: the pipeline caches embeddings per prompt, and the text encoder is part of a step.
      const prompt = Array.from({ length: job.batch }, (_, i) => `a photo of a cat, take ${r + 1}, image ${i}`);
      const out = await pipe.generate({ prompt, seed: job.seed + r + 1, width: job.width, height: job.height });
      if (!out.fused) throw new Error('the pipeline did not run the fused one-step graph');
      if (r < 0) {
        afterWarmup = sampleRss().peakMiB;
        log(`one_step: build ${oneStep.build_ms.toFixed(0)} ms, session ${oneStep.session_ms.toFixed(0)} ms (weights ${job.weights === 'files' ? 'read from the files by onnxruntime' : 'filled in JS'})`);
        continue;
      }
      textMs.push(out.timings.encodeMs);
      stepMs.push(out.timings.denoiseMs);
      totalMs.push(out.timings.totalMs);
    }
    const rss = sampleRss();
    const { parameters, gflop } = countOneStep(pipe, job);
    const oneStepMs = median(stepMs);
    const gflops = gflop / (oneStepMs / 1000);
    return {
      kind: 'fused',
      runtime: inner.name,
      weights: job.weights,
      sessions_from_files: pipe.graphStats.fromFiles,
      text_encoder_ms: median(textMs),
      one_step_ms: oneStepMs,
      step_ms: median(textMs) + oneStepMs,
      generate_ms: median(totalMs),
      one_step: { parameters, gflop, ...oneStep, samples_ms: stepMs, gflops, fraction_of_peak: gflops / job.matmulPeakGflops },
      peak_rss_mb: rss.peakMiB,
      peak_rss_after_warmup_mb: afterWarmup,
      rss_end_mb: rss.currentMiB,
    };
  } finally {
    await pipe.dispose();
  }
}
