/**
 * One configuration (ep, image size, batch) measured in the process that runs this: build the three stage graphs,
 * create their sessions, then time the stages. Run it in a fresh child process (see spawn.ts) so that the peak
 * RSS it reports belongs to this configuration alone.
 */
import { toOnnx } from '@sdxs/graph';
import type { Session, Tensor } from '@sdxs/tensor';
import { LocalFolderSource, openNodeRuntime } from '@sdxs/runtime-node';
import { median } from '../stats.js';
import { countFlops } from './flops.js';
import type { FusedResult } from './measure-fused.js';
import { targetFor, type Ep } from './options.js';
import { sampleRss } from './rss.js';
import { buildStage, folderNetworks, STAGES, syntheticNetworks, type Networks, type StageName, type StageSpec } from './stages.js';

export interface ConfigJob {
  kind: 'config';
  ep: Ep;
  width: number;
  height: number;
  batch: number;
  runs: number;
  seed: number;
  /** A diffusers folder; the synthetic full-size SDXS-512 when absent. */
  model?: string;
  /** The MatMul roofline measured by the parent, GFLOP/s. */
  matmulPeakGflops: number;
}

export interface StageResult {
  parameters: number;
  /** FLOPs of one run (MatMul/Gemm/Conv/attention only), 1e9. */
  gflop: number;
  /** Graph construction. */
  build_ms: number;
  /** Binding weights: synthetic generation, or the checkpoint read when --model is given. */
  bind_ms: number;
  /** toOnnx. */
  serialize_ms: number;
  /** runtime.createSession on the serialized bytes. */
  session_ms: number;
  median_ms: number;
  samples_ms: number[];
  /** Achieved GFLOP/s at the median. */
  gflops: number;
  /** Achieved / MatMul peak. */
  fraction_of_peak: number;
}

export interface ConfigResult {
  kind: 'config';
  ep: Ep;
  /** What the runtime says it ran on (an ep it does not have yet falls back). */
  runtime: string;
  width: number;
  height: number;
  batch: number;
  runs: number;
  weights: 'synthetic' | 'checkpoint';
  model?: string;
  stages_ms: Record<StageName, number>;
  /**
   * Prompt to pixels, ms: the text encoder plus the fused one-step graph (`step_source: 'fused'`, filled in by the
   * suite from a FusedResult), or the sum of the three stage medians (`'sum-of-stages'`) when that was not run.
   */
  step_ms: number;
  step_source: 'sum-of-stages' | 'fused';
  step_sum_of_stages_ms: number;
  images_per_s: number;
  /** Peak RSS, MiB: of the fused child (the pipeline's two sessions) when it ran, else of this child. */
  peak_rss_mb: number;
  /** Peak RSS of the per-stage child (graphs built, three sessions created, all runs done), MiB. */
  peak_rss_stages_mb: number;
  /** Peak RSS once the three sessions exist, before the first run, MiB. */
  peak_rss_after_sessions_mb: number;
  /** RSS at the end, with only the sessions alive, MiB. */
  rss_end_mb: number;
  matmul_peak_gflops: number;
  stages: Record<StageName, StageResult>;
  /** The fused step's own measurement, when it ran. */
  fused?: FusedResult;
}

function gc(): void {
  // Children run with --expose-gc: drop a stage's JS-side weights and model bytes before building the next.
  globalThis.gc?.();
}

export type Prepared = Omit<StageResult, 'session_ms' | 'median_ms' | 'samples_ms' | 'gflops' | 'fraction_of_peak'>;

/** Build, bind, count and serialize one stage; only the model bytes and the inputs outlive this call. */
export async function prepareStage(net: Networks, name: StageName, spec: StageSpec): Promise<{ bytes: Uint8Array; feeds: Record<string, Tensor>; info: Prepared }> {
  const built = await buildStage(net, name, spec);
  const flops = countFlops(built.graph);
  if (flops.symbolic.length) throw new Error(`${name}: ${flops.symbolic.length} nodes have symbolic shapes; FLOPs cannot be counted`);
  const t = performance.now();
  const bytes = toOnnx(built.graph);
  const info: Prepared = {
    parameters: built.graph.parameterCount(),
    gflop: flops.total / 1e9,
    build_ms: built.buildMs,
    bind_ms: built.bindMs,
    serialize_ms: performance.now() - t,
  };
  return { bytes, feeds: built.feeds, info };
}

/** Measure one configuration; `log` gets a line per phase. */
export async function measureConfig(job: ConfigJob, log: (s: string) => void): Promise<ConfigResult> {
  // No fallback: a benchmark asked for a GPU must not quietly measure the CPU.
  const runtime = await openNodeRuntime({ provider: job.ep, fallback: false });
  const net = job.model ? await folderNetworks(new LocalFolderSource(job.model)) : syntheticNetworks();
  const spec = { batch: job.batch, width: job.width, height: job.height, target: targetFor(runtime.provider), seed: job.seed };
  const sessions: { name: StageName; session: Session; feeds: Record<string, Tensor> }[] = [];
  const partial = new Map<StageName, Omit<StageResult, 'median_ms' | 'samples_ms' | 'gflops' | 'fraction_of_peak'>>();
  try {
    for (const name of STAGES) {
      const { bytes, feeds, info } = await prepareStage(net, name, spec);
      // The graph and its JS-side weights are unreachable now: collect them before onnxruntime copies the bytes.
      gc();
      const t = performance.now();
      const session = await runtime.createSession(bytes, { label: name });
      const sessionMs = performance.now() - t;
      sessions.push({ name, session, feeds });
      partial.set(name, { ...info, session_ms: sessionMs });
      log(
        `${name}: ${(info.parameters / 1e6).toFixed(1)} M params, ${info.gflop.toFixed(1)} GFLOP; build ${info.build_ms.toFixed(0)} ms, ` +
          `weights ${info.bind_ms.toFixed(0)} ms, serialize ${info.serialize_ms.toFixed(0)} ms, session ${sessionMs.toFixed(0)} ms`,
      );
    }
    gc();
    const afterSessions = sampleRss().peakMiB;
    // Interleave the stages as a pipeline runs them (text encoder, U-Net, decoder, again), one warm-up step first.
    const samples = new Map<StageName, number[]>(STAGES.map((s) => [s, []]));
    for (let r = -1; r < job.runs; r++) {
      for (const { name, session, feeds } of sessions) {
        const t = performance.now();
        await session.run(feeds);
        if (r >= 0) samples.get(name)!.push(performance.now() - t);
      }
    }
    const stageResult = (name: StageName): StageResult => {
      const p = partial.get(name)!;
      const xs = samples.get(name)!;
      const ms = median(xs);
      const gflops = p.gflop / (ms / 1000);
      return { ...p, median_ms: ms, samples_ms: xs, gflops, fraction_of_peak: gflops / job.matmulPeakGflops };
    };
    const stages: Record<StageName, StageResult> = { text_encoder: stageResult('text_encoder'), unet: stageResult('unet'), decoder: stageResult('decoder') };
    const stagesMs: Record<StageName, number> = { text_encoder: stages.text_encoder.median_ms, unet: stages.unet.median_ms, decoder: stages.decoder.median_ms };
    const stepMs = STAGES.reduce((s, n) => s + stagesMs[n], 0);
    const rss = sampleRss();
    return {
      kind: 'config',
      ep: job.ep,
      runtime: runtime.name,
      width: job.width,
      height: job.height,
      batch: job.batch,
      runs: job.runs,
      weights: net.kind,
      ...(job.model ? { model: job.model } : {}),
      stages_ms: stagesMs,
      step_ms: stepMs,
      step_source: 'sum-of-stages',
      step_sum_of_stages_ms: stepMs,
      images_per_s: job.batch / (stepMs / 1000),
      peak_rss_mb: rss.peakMiB,
      peak_rss_stages_mb: rss.peakMiB,
      peak_rss_after_sessions_mb: afterSessions,
      rss_end_mb: rss.currentMiB,
      matmul_peak_gflops: job.matmulPeakGflops,
      stages,
    };
  } finally {
    await Promise.all(sessions.map((s) => s.session.dispose()));
  }
}
