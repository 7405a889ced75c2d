/**
 * The whole SDXS step as the pipeline runs it (@sdxs/pipeline's `oneStepGraph`): one fused graph from noisy
 * latents and prompt embeddings to RGBA bytes — U-Net at t = 999, x0 = latents − σ·ε folded into constants, tiny
 * decoder, postprocessing — next to the text encoder. Measured in a fresh child process like a configuration,
 * so its peak RSS is the pipeline's own (two sessions: text encoder and one-step).
 */
import { bindCheckpoint, bindSynthetic, openWeightFiles, toOnnx, type Graph, type TensorStore } from '@sdxs/graph';
import { oneStepGraph, pipelineVae, type OneStep } from '@sdxs/pipeline';
import { LocalFolderSource, openNodeRuntime } from '@sdxs/runtime-node';
import { EulerDiscreteScheduler, schedulerFromConfig } from '@sdxs/schedulers';
import { Generator, type ModelSource, type Session, type Tensor } from '@sdxs/tensor';
import { median } from '../stats.js';
import { countFlops } from './flops.js';
import { SDXS_SCHEDULER_CONFIG } from './full-size-configs.js';
import { prepareStage } from './measure-config.js';
import { targetFor, type Ep } from './options.js';
import { sampleRss } from './rss.js';
import { folderNetworks, latentSize, syntheticNetworks, type Networks } from './stages.js';

export interface FusedJob {
  kind: 'fused';
  ep: Ep;
  width: number;
  height: number;
  batch: number;
  runs: number;
  seed: number;
  model?: string;
  matmulPeakGflops: number;
}

export interface FusedResult {
  kind: 'fused';
  runtime: string;
  /** Text encoder median, ms (measured here, beside the one-step graph). */
  text_encoder_ms: number;
  /** The fused one-step graph (U-Net + x0 + decoder + RGBA) median, ms. */
  one_step_ms: number;
  /** text_encoder_ms + one_step_ms: prompt to pixels. */
  step_ms: number;
  one_step: {
    parameters: number;
    gflop: number;
    build_ms: number;
    bind_ms: number;
    serialize_ms: number;
    session_ms: number;
    samples_ms: number[];
    gflops: number;
    fraction_of_peak: number;
  };
  peak_rss_mb: number;
  peak_rss_after_sessions_mb: number;
  rss_end_mb: number;
}

function gc(): void {
  globalThis.gc?.();
}

/** A component's files seen under a key prefix (`unet.`), as the fused graph names its parameters. */
function prefixed(file: TensorStore, prefix: string): TensorStore {
  return {
    name: file.name,
    entries: new Map([...file.entries].map(([k, e]) => [prefix + k, e])),
    read: (name) => file.read(name.slice(prefix.length)),
  };
}

async function bindFolder(graph: Graph, source: ModelSource, ignore: readonly RegExp[]): Promise<void> {
  const unet = await openWeightFiles(source, 'unet');
  const vae = await openWeightFiles(source, 'vae');
  try {
    await bindCheckpoint(graph, [...unet.map((f) => prefixed(f, 'unet.')), ...vae.map((f) => prefixed(f, 'vae.'))], {
      ignore: ignore.map((r) => new RegExp(`^vae\\.${r.source.replace(/^\^/, '')}`)),
    });
  } finally {
    await Promise.all([...unet, ...vae].map((f) => f.close()));
  }
}

async function oneStep(net: Networks): Promise<{ step: OneStep; sigma: number }> {
  const scheduler =
    net.kind === 'checkpoint'
      ? schedulerFromConfig(await net.source.readText('scheduler/scheduler_config.json'), `${net.source.id}/scheduler/scheduler_config.json`)
      : EulerDiscreteScheduler.fromConfig(SDXS_SCHEDULER_CONFIG, 'sdxs-512-dreamshaper/scheduler/scheduler_config.json');
  scheduler.setTimesteps(1);
  const c = scheduler.stepCoefficients(scheduler.timesteps[0]!);
  return { step: { timestep: c.timestep, inputDivisor: c.inputDivisor, x0Coef: c.x0Coef, prevCoef: c.prevCoef }, sigma: scheduler.initNoiseSigma };
}

/** Build, bind and serialize the one-step graph; only the bytes and inputs outlive this call. */
async function prepareOneStep(net: Networks, job: FusedJob, target: ReturnType<typeof targetFor>) {
  const { h, w } = latentSize(net, job);
  const { step, sigma } = await oneStep(net);
  const vae = pipelineVae('AutoencoderTiny', net.vae.config, 'vae/config.json');
  const contextDim = typeof net.unet.cross_attention_dim === 'number' ? net.unet.cross_attention_dim : net.unet.cross_attention_dim[0]!;
  const t0 = performance.now();
  const graph = oneStepGraph({ config: net.unet, contextDim, contextLength: 77 }, vae, step, { batch: job.batch, latentHeight: h, latentWidth: w, guidance: false }, { target, dtype: 'float32' });
  const buildMs = performance.now() - t0;
  const t1 = performance.now();
  if (net.kind === 'synthetic') bindSynthetic(graph, job.seed);
  else await bindFolder(graph, net.source, vae.ignore);
  const bindMs = performance.now() - t1;
  const flops = countFlops(graph);
  const t2 = performance.now();
  const bytes = toOnnx(graph);
  const serializeMs = performance.now() - t2;
  if (step.prevCoef.noise !== 0) throw new Error('the scheduler step is stochastic; the benchmark feeds no noise input');
  const rng = new Generator(job.seed);
  const latents = rng.randn([job.batch, net.unet.in_channels, h, w]);
  // The pipeline starts from σ·z (init_noise_sigma); the graph divides by √(σ²+1) itself.
  for (let i = 0; i < latents.data.length; i++) latents.data[i]! *= sigma;
  const feeds: Record<string, Tensor> = { latents, encoder_hidden_states: rng.randn([job.batch, 77, contextDim]) };
  return { bytes, feeds, info: { parameters: graph.parameterCount(), gflop: flops.total / 1e9, build_ms: buildMs, bind_ms: bindMs, serialize_ms: serializeMs } };
}

/** Measure the text encoder and the fused one-step graph together; `log` gets a line per phase. */
export async function measureFused(job: FusedJob, log: (s: string) => void): Promise<FusedResult> {
  const runtime = await openNodeRuntime({ provider: job.ep, fallback: false });
  const net = job.model ? await folderNetworks(new LocalFolderSource(job.model)) : syntheticNetworks();
  const target = targetFor(runtime.provider);
  const sessions: Session[] = [];
  try {
    const text = await prepareStage(net, 'text_encoder', { ...job, target });
    gc();
    const textSession = await runtime.createSession(text.bytes, { label: 'text_encoder' });
    sessions.push(textSession);
    const textFeeds = text.feeds;
    const prepared = await prepareOneStep(net, job, target);
    gc();
    const t = performance.now();
    const stepSession = await runtime.createSession(prepared.bytes, { label: 'one_step' });
    const sessionMs = performance.now() - t;
    sessions.push(stepSession);
    const { info, feeds } = prepared;
    log(
      `one_step: ${(info.parameters / 1e6).toFixed(1)} M params, ${info.gflop.toFixed(1)} GFLOP; build ${info.build_ms.toFixed(0)} ms, weights ${info.bind_ms.toFixed(0)} ms, ` +
        `serialize ${info.serialize_ms.toFixed(0)} ms, session ${sessionMs.toFixed(0)} ms`,
    );
    gc();
    const afterSessions = sampleRss().peakMiB;
    const textMs: number[] = [];
    const stepMs: number[] = [];
    for (let r = -1; r < job.runs; r++) {
      const t0 = performance.now();
      await textSession.run(textFeeds);
      const t1 = performance.now();
      // What an app shows: the RGBA bytes.
      await stepSession.run(feeds, ['rgba']);
      const t2 = performance.now();
      if (r >= 0) {
        textMs.push(t1 - t0);
        stepMs.push(t2 - t1);
      }
    }
    const oneStepMs = median(stepMs);
    const gflops = info.gflop / (oneStepMs / 1000);
    const rss = sampleRss();
    return {
      kind: 'fused',
      runtime: runtime.name,
      text_encoder_ms: median(textMs),
      one_step_ms: oneStepMs,
      step_ms: median(textMs) + oneStepMs,
      one_step: { ...info, session_ms: sessionMs, samples_ms: stepMs, gflops, fraction_of_peak: gflops / job.matmulPeakGflops },
      peak_rss_mb: rss.peakMiB,
      peak_rss_after_sessions_mb: afterSessions,
      rss_end_mb: rss.currentMiB,
    };
  } finally {
    await Promise.all(sessions.map((s) => s.dispose()));
  }
}
